"""Notebook 08's exercises answered with widgets, so they work in Voila where no code can be edited.

One card per :class:`labkit.tables.exercises.Problem`: its question, an answer
control that fits the kind of problem (a checkbox per invariant for
"verdict" and "story", a dropdown of schemes for "fix", a Lab in scheduler
mode for "break"), a check button, and the verdict line.  The verdict is
``Problem.check`` of the answer: the model grades it, as in the code version.
"""
from __future__ import annotations

import html

from ..core.invariants import TABLE
from ..tables.exercises import FIX_SCHEMES, Problem
from ..tables.exercises import worksheet as problems_for
from .guard import Messages, guard
from .lab import Lab
from .shown import Shown

HINTS = {
    "verdict": "Tick every invariant some schedule breaks (tick none for 'nothing'), then check.",
    "story": "Tick every invariant this one run breaks (tick none for 'nothing'), then check.",
    "fix": "Choose a scheme, then check.",
    "break": "Click the threads' steps in the timeline below (you are the scheduler), then check.",
}


class ProblemCard:
    """One problem: the question, an answer control, a check button and the model's verdict."""

    def __init__(self, problem: Problem):
        import ipywidgets as widgets

        self.problem, self.messages, self.verdict_text = problem, Messages(), ""
        self.boxes, self.scheme, self.lab = {}, None, None
        if problem.kind in ("verdict", "story"):
            self.boxes = {record.name: widgets.Checkbox(value=False, description=f"{record.name} "
                                                        f"({record.words})", indent=False,
                                                        layout=widgets.Layout(width="auto"))
                          for record in TABLE}
            control = widgets.HBox(list(self.boxes.values()), layout=widgets.Layout(flex_flow="row wrap"))
        elif problem.kind == "fix":
            self.scheme = widgets.Dropdown(options=[("choose a scheme", "")] + [(s, s) for s in FIX_SCHEMES],
                                           value="", description="scheme")
            control = self.scheme
        else:
            self.lab = Lab(problem.scenario, read_after=0, install_after=0, controls=(), goal=problem.target)
            self.lab.scheduling.value = True          # the student's clicks are the schedule
            control = self.lab.widget
        self.button = widgets.Button(description="check", icon="check", button_style="primary")
        self.button.on_click(guard(self.messages, lambda _: self.check()))
        self.verdict = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HTML(f'<div style="font-weight:bold;font-size:13px">{html.escape(problem.question)}</div>'),
            widgets.HTML(f'<div style="font-size:12px;opacity:0.85">{HINTS[problem.kind]}</div>'),
            control, self.button, self.verdict, self.messages.widget],
            layout=widgets.Layout(border="1px solid #8c8c8c", padding="6px", margin="0 0 10px 0"))
        self.widget.add_class("labkit-problem")

    def answer(self):
        """The answer the controls hold, in the form ``Problem.check`` takes (a Lab for "break")."""
        if self.boxes:
            return [name for name, box in self.boxes.items() if box.value]
        if self.scheme is not None:
            if not self.scheme.value:
                raise ValueError("choose a scheme first")
            return self.scheme.value
        return self.lab

    def check(self) -> str:
        """Grade the current answer with the model and show the verdict line."""
        self.messages.clear()
        self.verdict_text = self.problem.check(self.answer())
        self.verdict.value = f'<div class="labkit-problem-verdict">{html.escape(self.verdict_text)}</div>'
        return self.verdict_text

    def __repr__(self) -> str:
        return self.problem.question + ("\n   " + self.verdict_text if self.verdict_text else "")


class Worksheet(Shown):
    """The seeded worksheet of :func:`labkit.tables.exercises.worksheet`, one card per problem."""

    def __init__(self, seed: int, verdicts: int = 3):
        import ipywidgets as widgets

        self.seed = seed
        self.cards = [ProblemCard(problem) for problem in problems_for(seed, verdicts)]
        self.widget = widgets.VBox([card.widget for card in self.cards])
        self.widget.add_class("labkit-worksheet")

    @property
    def problems(self) -> tuple:
        return tuple(card.problem for card in self.cards)

    def __repr__(self) -> str:
        return f"Worksheet(seed={self.seed}, {len(self.cards)} problems)\n" + "\n".join(map(repr, self.cards))


def worksheet(seed: int, verdicts: int = 3) -> Worksheet:
    """The exercises for ``seed`` as widgets (the same seed gives a class the same problems)."""
    return Worksheet(seed, verdicts)


__all__ = ["Worksheet", "ProblemCard", "worksheet"]
