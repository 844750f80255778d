"""One story, two configurations, two timelines, one cursor.

Both runs come from ``interleave`` with the same slider position, so they tell
the same story (the fault reads the pte after the same VM step).  The figures
stand one above the other and line the runs up by that story, not by step number: the VM operation's
``j``-th step has the same x on both sides, and between two VM steps the
other threads' steps are matched by thread and kind
(:func:`labkit.widgets.lanes.story_positions`).  So when ``pin`` adds a
get_page, the guest's access still sits under the guest's access, and the
cursor shows the same moment of the story on both sides.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..scenario import Scenario, build
from ..search.schedules import interleave, vm_length
from ..search.trace import simulate
from . import palette
from .guard import Messages, guard
from .lab import DEFAULT_SPEED, SPEEDS, checked_placement, schedule_slider, status_html, verdict_html
from .lanes import aligned, handle_words, lane_names, story_positions, vm_places
from .shown import Shown
from .timeline import Timeline

STORY_AXIS = "the story: the same x is the same moment in both runs (VM steps lined up)"
SIDE_COLOURS = (palette.BLUE, palette.ORANGE)


class Side:
    def __init__(self, scenario: Scenario, colour: str, which: str):
        self.scenario = scenario
        self.timeline = Timeline(x_label=STORY_AXIS)
        self.title = widgets.HTML(f'<div style="border-left:6px solid {colour};padding-left:6px">'
                                  f"<b>{which}: {html.escape(scenario.label())}</b></div>")
        self.verdict, self.status = widgets.HTML(), widgets.HTML()
        self.status.add_class("labkit-status-line")
        self.trace = None
        self.xs: list = []
        self.widget = widgets.VBox([self.title, self.verdict, self.timeline.figure, self.status])
        self.widget.add_class("labkit-side")

    def step_at(self, x: int) -> int:
        """This run's last step at or before story position ``x`` (0: nothing has run yet)."""
        return max((k for k in range(len(self.trace.moves) + 1) if self.xs[k] <= x), default=0)

    def status_at(self, x: int) -> str:
        return status_html(self.trace, self.step_at(x))


def _places(left: Scenario, right: Scenario) -> list:
    a, b = vm_places(build(left)), vm_places(build(right))
    return [p if p == q else f"{p} | {q.split(': ', 1)[1]}" for p, q in zip(a, b)]


class Compare(Shown):
    """``Compare(Scenario(...), Scenario(...))``, or ``Compare.refcount("zap", "range")`` for off vs pin."""

    def __init__(self, left: Scenario, right: Scenario, read_after: int = 0, install_after: int | None = 8):
        if vm_length(left) != vm_length(right):
            raise ValueError("side by side needs two configurations whose VM operation has as many steps "
                             f"({left.label()}: {vm_length(left)}, {right.label()}: {vm_length(right)})")
        self.messages = Messages()
        self.sides = (Side(left, SIDE_COLOURS[0], "above"), Side(right, SIDE_COLOURS[1], "below"))
        # one above the other, with the same left margin, so a moment of the story is one column
        margin = max(Timeline.margin_for(lane_names(build(scenario))) for scenario in (left, right))
        for side in self.sides:
            side.timeline.min_left_px = margin
        places = _places(left, right)
        self.when, self.placement = schedule_slider(places, *checked_placement(places, read_after, install_after),
                                                    handles=handle_words(build(left)))
        self.cursor = widgets.IntSlider(min=0, max=1, description="story", layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(min=0, max=1, interval=DEFAULT_SPEED)
        self.speed = widgets.Dropdown(options=SPEEDS, value=DEFAULT_SPEED, description="speed",
                                      layout=widgets.Layout(width="180px"))
        self.links = [widgets.link((self.play, "value"), (self.cursor, "value")),
                      widgets.link((self.speed, "value"), (self.play, "interval"))]
        for side in self.sides:
            self.links += side.timeline.follow(self.cursor)
        self.legend = widgets.HTML(
            '<div style="font-size:12px;margin:4px 0">Both figures tell the same story: a column is one moment, '
            "the VM operation's steps line up, and a step only one run has (a get_page, a check) gets a column "
            "of its own, blank on the other side. The cursor shows that moment on both sides.</div>"
            + palette.legend_html())
        self.widget = widgets.VBox([self.sides[0].timeline.style, self.when, self.placement,
                                    *[side.widget for side in self.sides],
                                    widgets.HBox([self.play, self.cursor, self.speed]), self.messages.widget,
                                    self.legend])
        self.widget.add_class("labkit-compare")
        self.when.observe(guard(self.messages, self._reload), names="index")
        self.cursor.observe(guard(self.messages, self._cursor_moved), names="value")
        self._reload()

    @classmethod
    def refcount(cls, op="zap", scheme="range", left="off", right="pin", read_after=0, install_after=8, **fields):
        base = Scenario(op=op, scheme=scheme, refmode=left, **fields)
        return cls(base, base.replace(refmode=right), read_after, install_after)

    def _reload(self, change=None) -> None:
        self.messages.clear()
        low, high = self.when.index
        for side in self.sides:
            side.trace = simulate(side.scenario, interleave(side.scenario, low, high))
        left, right = self.sides
        left.xs, right.xs = story_positions(left.trace, right.trace)
        end = max(left.xs[len(left.trace.moves)], right.xs[len(right.trace.moves)])
        for side in self.sides:
            side.timeline.show(side.trace, x_max=end, moved=lambda d, xs=side.xs: aligned(d, xs))
            side.verdict.value = verdict_html(side.trace)
        if end >= self.cursor.max:
            self.cursor.max = self.play.max = max(end, 1)
        firsts = [side.xs[k] for side in self.sides for k, v in enumerate(side.trace.violations, start=1) if v]
        self.cursor.value = min(firsts) if firsts else end
        self.cursor.max = self.play.max = max(end, 1)
        self._cursor_moved({"new": self.cursor.value})

    def _cursor_moved(self, change) -> None:
        for side in self.sides:
            side.timeline.set_cursor(change["new"])
            side.status.value = side.status_at(change["new"])

    def __repr__(self) -> str:
        left, right = self.sides
        return f"Compare({left.scenario.label()} vs {right.scenario.label()}, cursor at {self.cursor.value})"
