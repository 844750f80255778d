"""“You are the scheduler”: one button per thread runs its next atomic step.

The buttons are enabled exactly when ``labkit.engine.advance`` would run the
thread (it is neither blocked on a lock nor finished), so the schedule a
student clicks is always one ``simulate`` accepts.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..core.engine import advance, next_step
from ..scenario import build


class Scheduler:
    """Buttons for each thread, undo and reset; ``on_change(names)`` is called after every click."""

    def __init__(self, on_change, guard):
        self.on_change = on_change
        self.guard = guard               # wraps callbacks so their errors become messages
        self.model = None
        self.names: list = []
        self.states: list = []
        self.buttons: dict = {}
        self.row = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.undo_button = widgets.Button(description="undo", icon="undo", tooltip="take back the last step")
        self.reset_button = widgets.Button(description="reset", icon="refresh", tooltip="start again from step 0")
        self.undo_button.on_click(self.guard(lambda _: self.undo()))
        self.reset_button.on_click(self.guard(lambda _: self.reset()))
        self.hint = widgets.HTML('<span style="font-size:12px">Click a thread to run its next atomic step. '
                                 'A greyed button is blocked (a lock is held) or finished.</span>')
        self.widget = widgets.VBox([self.hint, widgets.HBox([self.row, self.undo_button, self.reset_button],
                                                            layout=widgets.Layout(flex_flow="row wrap"))])
        self.widget.add_class("labkit-scheduler")

    def start(self, scenario) -> None:
        """A fresh run of ``scenario`` with no steps taken."""
        self.model = build(scenario)
        self.names, self.states = [], [self.model.initial]
        self.buttons = {}
        for name in self.model.names:
            button = widgets.Button(description=name, tooltip=name)
            button.add_class("labkit-thread-button")
            button.on_click(self.guard(lambda _, name=name: self.run(name)))
            self.buttons[name] = button
        self.row.children = list(self.buttons.values())
        self.refresh()

    def runnable(self, name: str) -> bool:
        t = self.model.index(name)
        return advance(self.model, self.states[-1], t) is not None

    def run(self, name: str) -> None:
        t = self.model.index(name)
        move = advance(self.model, self.states[-1], t)
        if move is None:
            raise ValueError(f"{name} cannot run now: it is blocked or finished")
        self.names.append(name)
        self.states.append(move.after)
        self.refresh()
        self.on_change(tuple(self.names))

    def undo(self) -> None:
        if self.names:
            self.names.pop()
            self.states.pop()
        self.refresh()
        self.on_change(tuple(self.names))

    def reset(self) -> None:
        del self.names[:]
        del self.states[1:]
        self.refresh()
        self.on_change(())

    def refresh(self) -> None:
        state = self.states[-1]
        for name, button in self.buttons.items():
            t = self.model.index(name)
            step = next_step(self.model, state, t)
            if step is None:
                button.disabled, button.tooltip = True, f"{name} has finished"
            elif advance(self.model, state, t) is None:
                button.disabled, button.tooltip = True, f"{name} is blocked at: {step.action}"
            else:
                button.disabled, button.tooltip = False, f"next: {step.action}"
        self.undo_button.disabled = not self.names
        self.reset_button.disabled = not self.names
