"""“You are the scheduler”: a game with one button per thread, each running its thread's next atomic step.

Each thread's program is listed with its next step marked; a thread that
cannot run says what it waits for (which lock, held by whom).  A goal names
an invariant to break ("make the guest touch a freed page"): the game is won
at the step that breaks it, and lost once every thread has finished without
it.  The buttons are enabled exactly when ``labkit.core.engine.advance``
would run the thread, so the schedule a student clicks is always one
``simulate`` accepts, and the trace is the engine's own (``trace_of``).
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..core.engine import advance, next_step, quiescent
from ..core.invariants import invariant
from ..core.kinds import REUSE
from ..core.state import NOBODY
from ..scenario import build
from ..search.trace import trace_of
from .lanes import step_name

DEFAULT_GOAL = "use_after_free"


def check_goal(goal):
    """None (free play) or an invariant name; a clear error naming the choices otherwise."""
    if goal is not None:
        invariant(goal)
    return goal


def waits_for(model, state, t: int) -> str:
    """Why thread ``t`` cannot run its next step: the lock it waits for and who holds it, in words.

    Asked of the step itself: it would run if that lock were free.
    """
    step = next_step(model, state, t)
    names = model.names
    freed = (
        (state.ptl not in (NOBODY, t), dict(ptl=NOBODY), lambda: f"the PTL, held by {names[state.ptl]}"),
        (state.mmu_lock not in (NOBODY, t), dict(mmu_lock=NOBODY),
         lambda: f"{model.secondary.lock}, held by {names[state.mmu_lock]}"),
        (state.mmap_sem != 0, dict(mmap_sem=0),
         lambda: ("mmap_sem, held for writing by " + names[0]) if state.mmap_sem < 0
         else f"mmap_sem, held for reading by {state.mmap_sem} fault(s)"),
    )
    for held, free, words in freed:
        if held:
            try:
                if step.run(state._replace(**free), t) is not None:
                    return words()
            except AssertionError:     # the step drops a lock it does not hold in that state: not this one
                continue
    if step.kind == REUSE:
        return "a freed page to hand out (nothing has been freed yet)"
    return f"{step.action} cannot run yet"


class Scheduler:
    """Thread buttons and listings, undo and reset, a goal; ``on_change(names)`` is called after every click."""

    def __init__(self, on_change, guard, goal=DEFAULT_GOAL):
        self.on_change = on_change
        self.guard = guard               # wraps callbacks so their errors become messages
        self.goal = check_goal(goal)
        self.model = None
        self.names: list = []
        self.moves: list = []
        self.buttons: dict = {}
        self.listings: dict = {}
        self.row = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.undo_button = widgets.Button(description="undo", icon="undo", tooltip="take back the last step")
        self.reset_button = widgets.Button(description="reset", icon="refresh", tooltip="start again from step 0")
        self.undo_button.on_click(self.guard(lambda _: self.undo()))
        self.reset_button.on_click(self.guard(lambda _: self.reset()))
        self.goal_line = widgets.HTML()
        self.ending = widgets.HTML()
        self.ending.add_class("labkit-ending")
        self.widget = widgets.VBox([self.goal_line, self.row,
                                    widgets.HBox([self.undo_button, self.reset_button, self.ending],
                                                 layout=widgets.Layout(align_items="center"))])
        self.widget.add_class("labkit-scheduler")

    # -- the game -------------------------------------------------------------

    def start(self, scenario) -> None:
        """A fresh run of ``scenario`` with no steps taken."""
        self.model = build(scenario)
        self.names, self.moves = [], []
        self.buttons, self.listings, columns = {}, {}, []
        for name in self.model.names:
            button = widgets.Button(description=name, tooltip=name, layout=widgets.Layout(width="140px"))
            button.add_class("labkit-thread-button")
            button.on_click(self.guard(lambda _, name=name: self.run(name)))
            listing = widgets.HTML()
            listing.add_class("labkit-listing")
            self.buttons[name], self.listings[name] = button, listing
            columns.append(widgets.VBox([button, listing], layout=widgets.Layout(width="200px", margin="0 4px 0 0")))
        self.row.children = columns
        self.refresh()

    def set_goal(self, goal) -> None:
        """The invariant the student must break (``"use_after_free"``, ...), or None for free play."""
        self.goal = check_goal(goal)
        if self.model is not None:
            self.refresh()

    @property
    def state(self):
        return self.moves[-1].after if self.moves else self.model.initial

    @property
    def trace(self):
        """The run so far, with the engine's own verdicts (end-of-run checks once every thread finished)."""
        return trace_of(self.model, tuple(self.names), tuple(self.moves))

    @property
    def outcome(self):
        """``"win"`` once the goal is broken, ``"lose"`` once every thread finished without it, else None."""
        if self.model is None or self.goal is None:
            return None
        trace = self.trace
        if self.goal in trace.violated():
            return "win"
        return "lose" if quiescent(self.model, self.state) else None

    def runnable(self, name: str) -> bool:
        return advance(self.model, self.state, self.model.index(name)) is not None

    def run(self, name: str) -> None:
        t = self.model.index(name)
        move = advance(self.model, self.state, t)
        if move is None:
            raise ValueError(f"{name} cannot run now: it is blocked or finished")
        self.names.append(name)
        self.moves.append(move)
        self.refresh()
        self.on_change(tuple(self.names))

    def undo(self) -> None:
        if self.names:
            self.names.pop()
            self.moves.pop()
        self.refresh()
        self.on_change(tuple(self.names))

    def reset(self) -> None:
        self.names, self.moves = [], []
        self.refresh()
        self.on_change(())

    # -- what it shows ----------------------------------------------------------

    def goal_text(self) -> str:
        if self.goal is None:
            return "No goal: run the threads in any order and watch what happens."
        secondary = self.model.secondary
        return "Goal: " + invariant(self.goal).goal.format(user=secondary.user, entry=secondary.entry) + "."

    def refresh(self) -> None:
        state = self.state
        for t, (name, button) in enumerate(self.buttons.items()):
            step = next_step(self.model, state, t)
            if step is None:
                button.disabled, button.tooltip, note = True, f"{name} has finished", "finished"
            elif advance(self.model, state, t) is None:
                why = waits_for(self.model, state, t)
                button.disabled, button.tooltip, note = True, f"{name} is blocked: waits for {why}", f"waits for {why}"
            else:
                button.disabled, button.tooltip, note = False, f"next: {step.action}", "ready"
            self.listings[name].value = self._listing(t, note)
        self.undo_button.disabled = not self.names
        self.reset_button.disabled = not self.names
        self.goal_line.value = (f'<div style="font-size:13px"><b>{html.escape(self.goal_text())}</b> '
                                "Click a thread to run its next atomic step; ▶ marks it.</div>")
        self.ending.value = self._ending()

    def _listing(self, t: int, note: str) -> str:
        program = self.model.programs[t]
        pc = self.state.threads[t].pc
        items = []
        for i, step in enumerate(program.steps):
            words = html.escape(step_name(step))
            title = html.escape(step.action, quote=True)
            if i == pc:
                items.append(f'<li title="{title}" style="font-weight:bold">▶ {words}</li>')
            else:
                items.append(f'<li title="{title}" style="opacity:0.7">&nbsp;&nbsp;&nbsp;{words}</li>')
        colour = "#D55E00" if note.startswith("waits") else "inherit"
        return (f'<div style="font-size:11px;line-height:1.35"><div class="labkit-thread-note" style="color:{colour};'
                f'min-height:2.7em">{html.escape(note)}</div>'
                f'<ol style="list-style:none;padding-left:0;margin:2px 0">{"".join(items)}</ol></div>')

    def _ending(self) -> str:
        outcome = self.outcome
        if outcome == "win":
            step = self.trace.first_violation(self.goal)
            return (f'<span class="labkit-win" style="font-weight:bold;color:#009E73;margin-left:12px">'
                    f"You win: step {step} breaks it ({html.escape(invariant(self.goal).words)}).</span>")
        if outcome == "lose":
            return ('<span class="labkit-lose" style="font-weight:bold;color:#D55E00;margin-left:12px">'
                    f"Every thread has finished and nothing broke {html.escape(invariant(self.goal).words)}: "
                    "undo some steps or reset, and try another order.</span>")
        return ""
