"""The timeline figure: built once, its marks' data replaced in place for each new trace.

Lanes, top to bottom: the Linux pte, the secondary entry (spte or GRU TLB
entry), page P (state and refcount), then one lane per thread with a dot per
step.  x is the step number.

The cursor never goes through the kernel.  A veil of one column per step
(a horizontal stroke as tall as the plot: bqplot's Lines redraw when their
colour scale's domain changes, Bars do not) is
coloured by a ColorScale whose ``mid`` is linked to the cursor slider in the
browser (``jslink``).  Its colours are ``VEIL_STEPS`` clears, one tint, then
``VEIL_STEPS`` greys, spread over ``[-1, cursor]`` and ``[cursor, end]``: each
colour covers less than a step, so steps before the cursor are clear, the
cursor's own column lands exactly on the tint and later steps are veiled.
Moving the cursor changes one number in the browser and recolours one mark,
with no round trip to the kernel.
"""
from __future__ import annotations

import bqplot as bq
import ipywidgets as widgets

from ..core.invariants import invariant
from . import palette
from .lanes import drawing

#: Colours on each side of the cursor; ``VEIL_STEPS`` bounds how long a trace the veil is sharp for.
VEIL_STEPS = 128
VEIL_COLOURS = [palette.CLEAR] * VEIL_STEPS + [palette.CURRENT] + [palette.FUTURE] * VEIL_STEPS
WIDTH_PX = 900
HEIGHT_PX, TOP_PX, BOTTOM_PX = 400, 34, 40

CSS = """<style>
.labkit-timeline g.curve path.line { pointer-events: none; }
.labkit-timeline .mark text { pointer-events: none; }
</style>"""


class Timeline:
    """A bqplot Figure with one lane per thing worth watching; ``show(trace)`` redraws it."""

    def __init__(self, title: str = ""):
        # No scale sets min/max or reverse: Voila's bqplot ignored them, so every domain comes from the
        # data (the veil spans the x range, an invisible band spans the unit range, lanes top to bottom).
        self.x = bq.LinearScale(allow_padding=False)
        self.y = bq.OrdinalScale()
        self.unit = bq.LinearScale(allow_padding=False)
        self.veil_scale = bq.ColorScale(min=-1.0, mid=0.0, max=2.0, colors=VEIL_COLOURS,
                                        extrapolation="constant")
        self.roles = bq.OrdinalColorScale(domain=list(palette.ROLES), colors=list(palette.ROLES.values()))
        xy = {"x": self.x, "y": self.y}
        tip = bq.Tooltip(fields=["name"], labels=[""], show_labels=False)

        self.bands = bq.Lines(x=[[0, 0]], y=[[0, 0]], scales={"x": self.x, "y": self.unit}, fill="inside",
                              close_path=True, stroke_width=0, colors=[palette.CLEAR],
                              fill_colors=[palette.CLEAR], fill_opacities=[0.0])
        self.bars = bq.Lines(x=[[0, 0]], y=[["pte[0]", "pte[0]"]], scales=xy, stroke_width=16,
                             colors=[palette.CLEAR], tooltip=tip, labels=[""], line_style="solid")
        self.bar_text = bq.Label(x=[0.0], y=["pte[0]"], text=[""], scales=xy, colors=[palette.INK],
                                 default_size=11, align="start", y_offset=4, font_weight="bold")
        self.dots = bq.Scatter(x=[0], y=["pte[0]"], color=["other"], scales={**xy, "color": self.roles},
                               default_size=90, stroke="#333333", tooltip=bq.Tooltip(fields=["name"], show_labels=False),
                               names=[""], display_names=False)
        self.dot_text = bq.Label(x=[0.0], y=["pte[0]"], text=[""], scales=xy, colors=[palette.NEUTRAL],
                                 default_size=10, align="start", y_offset=-9, x_offset=-4, rotate_angle=-28)
        self.calls = bq.Scatter(x=[0], y=["pte[0]"], scales=xy, marker="triangle-down", default_size=140,
                                colors=[palette.YELLOW], stroke="#333333", names=[""],
                                display_names=False, tooltip=bq.Tooltip(fields=["name"], show_labels=False))
        self.call_text = bq.Label(x=[0.0], y=["pte[0]"], text=[""], scales=xy, colors=[palette.NEUTRAL],
                                  default_size=10, align="middle", y_offset=-13)
        self.clears = bq.Scatter(x=[0], y=["pte[0]"], scales=xy, marker="cross", default_size=130,
                                 colors=[palette.BLUE], stroke="#ffffff", names=[""], display_names=False,
                                 tooltip=bq.Tooltip(fields=["name"], show_labels=False))
        self.alarm = bq.Label(x=[0.0], y=[0.97], text=[""], scales={"x": self.x, "y": self.unit},
                              colors=[palette.VIOLATION], default_size=14, font_weight="bolder", align="middle")
        self.veil = bq.Lines(x=[[-0.5, 0.5]], y=[[0.5, 0.5]], color=[0.0],
                             scales={"x": self.x, "y": self.unit, "color": self.veil_scale},
                             stroke_width=HEIGHT_PX - TOP_PX - BOTTOM_PX)
        x_axis = bq.Axis(scale=self.x, label="step", tick_format="d", grid_lines="none")
        y_axis = bq.Axis(scale=self.y, side="left", grid_lines="none")
        self.marks = [self.bands, self.bars, self.bar_text, self.dots, self.dot_text, self.calls,
                      self.call_text, self.clears, self.veil, self.alarm]
        self.figure = bq.Figure(marks=self.marks, axes=[x_axis, y_axis], title=title, animation_duration=0,
                                fig_margin={"top": TOP_PX, "bottom": BOTTOM_PX, "left": 96, "right": 16},
                                layout=widgets.Layout(width="100%", max_width="1100px", height=f"{HEIGHT_PX}px"),
                                padding_y=0.0)
        self.figure.add_class("labkit-timeline")
        self.style = widgets.HTML(CSS)
        self.steps = 0

    # -- the cursor -----------------------------------------------------------

    def follow(self, slider) -> list:
        """Move the veil with ``slider`` in the browser; returns the links (keep them alive)."""
        return [widgets.jslink((slider, "value"), (self.veil_scale, "mid"))]

    def set_cursor(self, step: int) -> None:
        """The kernel-side value, for runs without a browser and for cursor moves made in Python."""
        self.veil_scale.mid = float(step)

    # -- a new trace ----------------------------------------------------------

    def show(self, trace, x_max=None) -> None:
        """Redraw for ``trace``; ``x_max`` widens the x axis (side by side figures share it)."""
        d = drawing(trace)
        n = d.steps
        right = float(max(n, x_max or 0) + 1)
        self.steps = n
        top_down = d.lanes[::-1]           # an ordinal axis puts its first name at the bottom
        if list(self.y.domain) != top_down:
            self.y.domain = top_down
        px_per_step = WIDTH_PX / (right + 0.5)

        with self.bars.hold_sync():
            self.bars.x = d.bar_x or [[0, 0]]
            self.bars.y = d.bar_y or [[d.lanes[0]] * 2]
            self.bars.colors = d.bar_colours or [palette.CLEAR]
            self.bars.labels = d.bar_tips or [""]
        texts = [(x - span / 2 + 0.2, lane, text) for x, lane, text, span in d.bar_text
                 if len(text) * 6.6 < span * px_per_step - 6]
        self._label(self.bar_text, texts)
        with self.dots.hold_sync():
            self.dots.x, self.dots.y = d.dot_x, d.dot_y
            self.dots.color, self.dots.names = d.dot_roles, d.dot_tips
        self._label(self.dot_text, list(zip(d.dot_x, d.dot_y, d.dot_text)))
        self._points(self.calls, [(x, lane) for x, lane, _ in d.calls],
                     [f"step {x}: the VM operation calls {hook}" for x, _, hook in d.calls])
        self._label(self.call_text, [(x, lane, hook.replace("invalidate_", "")) for x, lane, hook in d.calls])
        self._points(self.clears, d.clears, [f"step {x}: the pte is cleared" for x, _ in d.clears])
        self._bands(d)
        alarms = {}
        for x, name in d.violations:
            alarms.setdefault(x, []).append(invariant(name).title)
        self._label(self.alarm, [(x, 0.97, " + ".join(names)) for x, names in alarms.items()])
        with self.veil.hold_sync():
            self.veil.x = [[k - 0.5, k + 0.5] for k in range(0, n + 1)] + [[right, right]]
            self.veil.y = [[0.5, 0.5]] * (n + 2)
            self.veil.color = [float(k) for k in range(0, n + 1)] + [-1.0]
        self.veil_scale.max = float(max(n, x_max or 0) + 2)

    def _bands(self, d) -> None:
        # the first band is invisible and spans the unit scale, so that scale's domain is always [0, 1]
        xs, ys, colours, opacities = [[0, 0, 0, 0]], [[0.0, 0.0, 1.0, 1.0]], [palette.CLEAR], [0.0]
        for x0, x1 in d.windows:
            xs.append([x0 - 0.45, x1 + 0.45, x1 + 0.45, x0 - 0.45])
            ys.append([0.0, 0.0, 1.0, 1.0])
            colours.append(palette.RANGE_WINDOW)
            opacities.append(0.22)
        for x in sorted({x for x, _ in d.violations}):
            xs.append([x - 0.45, x + 0.45, x + 0.45, x - 0.45])
            ys.append([0.0, 0.0, 0.93, 0.93])
            colours.append(palette.VIOLATION)
            opacities.append(0.35)
        with self.bands.hold_sync():
            self.bands.x, self.bands.y = xs, ys
            self.bands.colors, self.bands.fill_colors, self.bands.fill_opacities = colours, colours, opacities

    @staticmethod
    def _label(mark, items) -> None:
        items = items or [(0.0, mark.y[0] if len(mark.y) else 0, "")]
        with mark.hold_sync():
            mark.x = [float(x) for x, _, _ in items]
            mark.y = [y for _, y, _ in items]
            mark.text = [t for _, _, t in items]

    @staticmethod
    def _points(mark, items, tips) -> None:
        with mark.hold_sync():
            mark.x = [x for x, _ in items]
            mark.y = [y for _, y in items]
            mark.names = tips
