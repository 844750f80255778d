"""One schedule, two configurations, two timelines, one cursor.

Both runs come from ``interleave`` with the same slider position, so they tell
the same story (the fault reads the pte after the same VM step) even when one
configuration has more steps than the other.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..scenario import Scenario
from ..search.schedules import interleave, vm_length
from ..search.trace import simulate
from .guard import Messages, guard
from .lab import SPEEDS, status_html, verdict_html
from .timeline import Timeline


class Side:
    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.timeline = Timeline()
        self.title = widgets.HTML(f"<b>{html.escape(scenario.label())}</b>")
        self.verdict, self.status = widgets.HTML(), widgets.HTML()
        self.trace = None
        self.widget = widgets.VBox([self.title, self.verdict, self.timeline.figure, self.status],
                                   layout=widgets.Layout(flex="1 1 0", min_width="420px"))

    def status_at(self, step: int) -> str:
        n = len(self.trace.moves)
        if step > n:
            return f'<div class="labkit-status">step {step}: this run ended at step {n}</div>'
        return status_html(self.trace, step)


class Compare:
    """``Compare(Scenario(...), Scenario(...))``, or ``Compare.refcount("zap", "range")`` for off vs pin."""

    def __init__(self, left: Scenario, right: Scenario, read_after: int = 0, install_after: int | None = 7):
        if vm_length(left) != vm_length(right):
            raise ValueError("side by side needs two configurations whose VM operation has as many steps "
                             f"({left.label()}: {vm_length(left)}, {right.label()}: {vm_length(right)})")
        self.messages = Messages()
        self.sides = (Side(left), Side(right))
        n = vm_length(left)
        install_after = n if install_after is None else min(install_after, n)
        read_after = min(read_after, install_after)
        self.when = widgets.IntRangeSlider(min=0, max=n, value=(read_after, install_after),
                                           description="fault reads | installs after VM step",
                                           style={"description_width": "initial"},
                                           layout=widgets.Layout(width="520px"))
        self.cursor = widgets.IntSlider(min=0, max=1, description="step", layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(min=0, max=1, interval=100)
        self.speed = widgets.Dropdown(options=SPEEDS, value=100, description="speed",
                                      layout=widgets.Layout(width="180px"))
        self.links = [widgets.link((self.play, "value"), (self.cursor, "value")),
                      widgets.link((self.speed, "value"), (self.play, "interval"))]
        for side in self.sides:
            self.links += side.timeline.follow(self.cursor)
        self.widget = widgets.VBox([self.sides[0].timeline.style, self.when,
                                    widgets.HBox([s.widget for s in self.sides],
                                                 layout=widgets.Layout(flex_flow="row wrap")),
                                    widgets.HBox([self.play, self.cursor, self.speed]), self.messages.widget])
        self.widget.add_class("labkit-compare")
        self.when.observe(guard(self.messages, self._reload), names="value")
        self.cursor.observe(guard(self.messages, self._cursor_moved), names="value")
        self._reload()

    @classmethod
    def refcount(cls, op="zap", scheme="range", left="off", right="pin", read_after=0, install_after=8, **fields):
        base = Scenario(op=op, scheme=scheme, refmode=left, **fields)
        return cls(base, base.replace(refmode=right), read_after, install_after)

    def _reload(self, change=None) -> None:
        self.messages.clear()
        low, high = self.when.value
        for side in self.sides:
            side.trace = simulate(side.scenario, interleave(side.scenario, low, high))
        longest = max(len(side.trace.moves) for side in self.sides)
        for side in self.sides:
            side.timeline.show(side.trace, x_max=longest)
            side.verdict.value = verdict_html(side.trace)
        self.cursor.max = self.play.max = longest
        firsts = [k for side in self.sides for k, v in enumerate(side.trace.violations, start=1) if v]
        self.cursor.value = min(firsts) if firsts else longest
        self._cursor_moved({"new": self.cursor.value})

    def _cursor_moved(self, change) -> None:
        for side in self.sides:
            side.timeline.set_cursor(change["new"])
            side.status.value = side.status_at(change["new"])

    def __repr__(self) -> str:
        left, right = self.sides
        return f"Compare({left.scenario.label()} vs {right.scenario.label()}, cursor at {self.cursor.value})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle
