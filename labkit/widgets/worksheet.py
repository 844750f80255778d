"""Notebook 08's exercises answered with widgets, so they work in Voila where no code can be edited.

One card per :class:`labkit.tables.exercises.Problem`: its question, an answer
control that fits the kind of problem (a checkbox per invariant for
"verdict" and "story", a dropdown of schemes for "fix", a Lab in scheduler
mode for "break"), a check button, and the verdict line.  The verdict is
``Problem.grade`` of the answer: the model grades it, as in the code version,
and the line is marked "✓ right" on green or "✗ not yet" on vermillion, in
black (contrast 6.1:1 and 5.4:1), so the colour is never the only cue.

``worksheet(seed, answers=True)`` is the instructor's copy (notebooks/instructor.ipynb):
each card also shows the model's answer and its evidence, ``Problem.solution``.
"""
from __future__ import annotations

import html

from ..core.invariants import TABLE
from ..tables.exercises import FIX_SCHEMES, Grade, Problem
from ..tables.exercises import worksheet as problems_for
from .guard import Messages, guard
from .lab import Lab
from .palette import GREEN, INK, VERMILLION
from .shown import Shown

HINTS = {
    "verdict": "Tick every invariant some schedule breaks (tick none for 'nothing'), then check.",
    "story": "Tick every invariant this one run breaks (tick none for 'nothing'), then check.",
    "fix": "Choose a scheme, then check.",
    "break": "Click the threads' steps in the timeline below (you are the scheduler), then check.",
}


#: The mark on a graded verdict line: its word and its colour (black text on it: INK).
MARKS = {True: ("✓ right", GREEN), False: ("✗ not yet", VERMILLION)}


def verdict_html(grade: Grade) -> str:
    """The verdict line, marked right or wrong in words and colour (an ungraded line says why, unmarked)."""
    line = html.escape(grade.line)
    if grade.right is None:
        return f'<div class="labkit-problem-verdict">{line}</div>'
    word, colour = MARKS[grade.right]
    kind = "right" if grade.right else "wrong"
    return (f'<div class="labkit-problem-verdict labkit-verdict-{kind}" style="border-left:6px solid {colour};'
            f'padding-left:6px;font-size:13px;line-height:1.6">'
            f'<span class="labkit-verdict-mark" style="background:{colour};color:{INK};font-weight:bold;'
            f'padding:1px 6px;border-radius:3px;margin-right:6px;white-space:nowrap">{word}</span>{line}</div>')


def solution_html(problem: Problem) -> str:
    """The instructor's view of one card: the model's answer and its evidence."""
    solution = problem.solution()
    evidence = "".join(f"<li>{html.escape(line)}</li>" for line in solution.evidence)
    return (f'<div class="labkit-problem-solution" style="font-size:12px;border:1px dashed #8c8c8c;padding:4px 8px">'
            f'<b>Answer (the model\'s):</b> {html.escape(solution.answer)}'
            f'<ul style="margin:2px 0 0 0">{evidence}</ul></div>')


class ProblemCard:
    """One problem: the question, an answer control, a check button and the model's verdict.

    With ``reveal``, the card also shows the model's answer and evidence (the instructor's copy).
    """

    def __init__(self, problem: Problem, reveal: bool = False):
        import ipywidgets as widgets

        self.problem, self.messages, self.verdict_text, self.grade = problem, Messages(), "", None
        self.reveal = reveal
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
        shown = [widgets.HTML(f'<div style="font-weight:bold;font-size:13px">{html.escape(problem.question)}</div>'),
                 widgets.HTML(f'<div style="font-size:12px;opacity:0.85">{HINTS[problem.kind]}</div>')]
        if reveal:
            shown.append(widgets.HTML(solution_html(problem)))
        self.widget = widgets.VBox([*shown, control, self.button, self.verdict, self.messages.widget],
                                   layout=widgets.Layout(border="1px solid #8c8c8c", padding="6px",
                                                         margin="0 0 10px 0"))
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
        """Grade the current answer with the model and show the verdict line, marked right or wrong."""
        self.messages.clear()
        self.grade = self.problem.grade(self.answer())
        self.verdict_text = self.grade.line
        self.verdict.value = verdict_html(self.grade)
        return self.verdict_text

    def __repr__(self) -> str:
        text = self.problem.question
        if self.reveal:
            solution = self.problem.solution()
            text += f"\n   answer: {solution.answer}" + "".join(f"\n     - {line}" for line in solution.evidence)
        return text + ("\n   " + self.verdict_text if self.verdict_text else "")


class Worksheet(Shown):
    """The seeded worksheet of :func:`labkit.tables.exercises.worksheet`, one card per problem.

    ``answers=True`` shows each card's answer and evidence: the instructor's copy.
    """

    def __init__(self, seed: int, verdicts: int = 3, answers: bool = False):
        import ipywidgets as widgets

        self.seed, self.answers = seed, answers
        self.cards = [ProblemCard(problem, reveal=answers) for problem in problems_for(seed, verdicts)]
        self.widget = widgets.VBox([card.widget for card in self.cards])
        self.widget.add_class("labkit-worksheet")

    @property
    def problems(self) -> tuple:
        return tuple(card.problem for card in self.cards)

    def __repr__(self) -> str:
        shown = ", with answers" if self.answers else ""
        return (f"Worksheet(seed={self.seed}, {len(self.cards)} problems{shown})\n"
                + "\n".join(map(repr, self.cards)))


def worksheet(seed: int, verdicts: int = 3, answers: bool = False) -> Worksheet:
    """The exercises for ``seed`` as widgets (the same seed gives a class the same problems).

    ``answers=True``: the instructor's copy, each problem with the model's answer and evidence.
    """
    return Worksheet(seed, verdicts, answers)


__all__ = ["Worksheet", "ProblemCard", "worksheet"]
