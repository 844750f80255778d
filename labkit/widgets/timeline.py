"""The timeline figure: built once, its marks' data replaced in place for each new trace.

The lanes come from :mod:`labkit.widgets.lanes` (the pte, what the fault
remembers, the secondary entry, page P, the notifier's counters, the locks,
then one lane per thread with a dot per step), under a top lane for the
alarms (an invariant broken, in capitals).  x is the step number.

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

No mark may ever name a lane the y scale does not have: the browser draws
such a point at NaN (a console error per mark).  A new configuration can
rename lanes (``spte[0]`` becomes ``GRU TLB entry[0]``), so ``show`` first
widens the y domain to the old and new lanes together, then replaces every
mark's data, then narrows the domain to the new lanes.

Labels never overlap and are never clipped: the left margin is sized from
the longest lane name, the figure is never narrower than ``WIDTH_PX`` (the
width the label layout assumes), dot words take one of two rows per lane or
give way (:func:`labkit.widgets.lanes.place`), and alarms are moved inside
the plot's right and left edges.
"""
from __future__ import annotations

import bqplot as bq
import ipywidgets as widgets

from ..core.invariants import invariant
from ..core.kinds import KINDS, LOCK, UNLOCK
from . import palette
from .lanes import drawing, place, text_px

#: Colours on each side of the cursor; ``VEIL_STEPS`` bounds how long a trace the veil is sharp for.
VEIL_STEPS = 128
VEIL_COLOURS = [palette.CLEAR] * VEIL_STEPS + [palette.CURRENT] + [palette.FUTURE] * VEIL_STEPS
#: The narrowest the figure gets (its layout's min_width): the label layout is computed for it.
WIDTH_PX = 840
LANE_PX, TOP_PX, BOTTOM_PX, RIGHT_PX = 44, 12, 40, 18
ALARM_LANE = " "              # the top lane, with no name: where the alarms are written
TICK_PX, DOT_TEXT_PX, BAR_TEXT_PX, CALL_TEXT_PX, ALARM_PX = 11, 10, 11, 10, 13
#: Dot words above and below the dot (pixels from its centre to the text's baseline): a 10 px text
#: reaches about 8.5 px above its baseline and 2.5 px below, a dot and its stroke 6.1 px from its
#: centre; with lanes 43 px apart (LANE_PX less the scale's padding), a word below one dot ends
#: 5 px above the next lane's words (measured in chromium: tests/browser).
ABOVE_PX, BELOW_PX = -10, 16

CSS = """<style>
.labkit-timeline g.curve path.line { pointer-events: none; }
.labkit-timeline .mark text { pointer-events: none; }
.labkit-timeline .axis text { font-size: 11px; }
</style>"""


#: A lock's word gives way to any other step's when two would overlap.
LOCK_WORDS = (KINDS[LOCK].word, KINDS[UNLOCK].word)


def _tip():
    return bq.Tooltip(fields=["name"], show_labels=False)


class Timeline:
    """A bqplot Figure with one lane per thing worth watching; ``show(trace)`` redraws it."""

    def __init__(self, title: str = "", x_label: str = "step"):
        # No scale sets min/max or reverse: Voila's bqplot ignored them, so every domain comes from the
        # data (the veil spans the x range, an invisible band spans the unit range, lanes top to bottom).
        self.x = bq.LinearScale(allow_padding=False)
        self.y = bq.OrdinalScale(domain=[ALARM_LANE])
        self.unit = bq.LinearScale(allow_padding=False)
        self.veil_scale = bq.ColorScale(min=-1.0, mid=0.0, max=2.0, colors=VEIL_COLOURS,
                                        extrapolation="constant")
        self.roles = bq.OrdinalColorScale(domain=list(palette.ROLES), colors=list(palette.ROLES.values()))
        xy = {"x": self.x, "y": self.y}
        anchor = {"x": [0.0], "y": [ALARM_LANE], "text": [""]}

        self.bands = bq.Lines(x=[[0, 0]], y=[[0, 0]], scales={"x": self.x, "y": self.unit}, fill="inside",
                              close_path=True, stroke_width=0, colors=[palette.CLEAR],
                              fill_colors=[palette.CLEAR], fill_opacities=[0.0])
        self.bars = bq.Lines(x=[[0, 0]], y=[[ALARM_LANE, ALARM_LANE]], scales=xy, stroke_width=16,
                             colors=[palette.CLEAR], tooltip=bq.Tooltip(fields=["name"], labels=[""],
                                                                        show_labels=False),
                             labels=[""], line_style="solid")
        self.bar_text = bq.Label(**anchor, scales=xy, colors=[palette.INK], default_size=BAR_TEXT_PX,
                                 align="start", y_offset=4, font_weight="bold")
        self.dots = bq.Scatter(x=[0], y=[ALARM_LANE], color=["other"], scales={**xy, "color": self.roles},
                               default_size=90, stroke="#333333", tooltip=_tip(), names=[""], display_names=False,
                               opacities=[0.0])
        self.above = bq.Label(**anchor, scales=xy, colors=[palette.NEUTRAL], default_size=DOT_TEXT_PX,
                              align="middle", y_offset=ABOVE_PX)
        self.below = bq.Label(**anchor, scales=xy, colors=[palette.NEUTRAL], default_size=DOT_TEXT_PX,
                              align="middle", y_offset=BELOW_PX)
        self.calls = bq.Scatter(x=[0], y=[ALARM_LANE], scales=xy, marker="triangle-down", default_size=140,
                                colors=[palette.YELLOW], stroke="#333333", names=[""], display_names=False,
                                tooltip=_tip(), opacities=[0.0])
        self.call_text = bq.Label(**anchor, scales=xy, colors=[palette.NEUTRAL], default_size=CALL_TEXT_PX,
                                  align="middle", y_offset=-13)
        self.clears = bq.Scatter(x=[0], y=[ALARM_LANE], scales=xy, marker="cross", default_size=130,
                                 colors=[palette.BLUE], stroke="#ffffff", names=[""], display_names=False,
                                 tooltip=_tip(), opacities=[0.0])
        self.alarm_top = bq.Label(**anchor, scales=xy, colors=[palette.VIOLATION], default_size=ALARM_PX,
                                  font_weight="bolder", align="middle", y_offset=-3)
        self.alarm_low = bq.Label(**anchor, scales=xy, colors=[palette.VIOLATION], default_size=ALARM_PX,
                                  font_weight="bolder", align="middle", y_offset=13)
        # the third row reaches into the pte lane, above its bar
        self.alarm_third = bq.Label(**anchor, scales=xy, colors=[palette.VIOLATION], default_size=ALARM_PX,
                                    font_weight="bolder", align="middle", y_offset=29)
        self.alarms = (self.alarm_top, self.alarm_low, self.alarm_third)
        self.veil = bq.Lines(x=[[-0.5, 0.5]], y=[[0.5, 0.5]], color=[0.0],
                             scales={"x": self.x, "y": self.unit, "color": self.veil_scale},
                             stroke_width=LANE_PX)
        self.x_axis = bq.Axis(scale=self.x, label=x_label, tick_format="d", grid_lines="none")
        self.y_axis = bq.Axis(scale=self.y, side="left", grid_lines="none", tick_style={"font-size": f"{TICK_PX}px"})
        self.marks = [self.bands, self.bars, self.bar_text, self.dots, self.above, self.below,
                      self.calls, self.call_text, self.clears, self.veil, *self.alarms]
        self.left_px = self.min_left_px = 60
        self.figure = bq.Figure(marks=self.marks, axes=[self.x_axis, self.y_axis], title=title, animation_duration=0,
                                fig_margin=self._margin(), padding_y=0.0,
                                layout=widgets.Layout(width="100%", min_width=f"{WIDTH_PX}px", max_width="1200px",
                                                      height=f"{TOP_PX + BOTTOM_PX + LANE_PX}px"))
        self.figure.add_class("labkit-timeline")
        self.style = widgets.HTML(CSS)
        self.steps = 0
        self.lanes: list = []
        self.drawn = None            # the Drawing on screen
        self._sent: dict = {}        # per mark, the data last sent (see _update)
        self._batch = None

    def _margin(self) -> dict:
        return {"top": TOP_PX, "bottom": BOTTOM_PX, "left": self.left_px, "right": RIGHT_PX}

    # -- the cursor -----------------------------------------------------------

    def follow(self, slider) -> list:
        """Move the veil with ``slider`` in the browser; returns the links (keep them alive)."""
        return [widgets.jslink((slider, "value"), (self.veil_scale, "mid"))]

    def set_cursor(self, step: int) -> None:
        """The kernel-side value, for runs without a browser and for cursor moves made in Python."""
        self.veil_scale.mid = float(step)

    # -- a new trace ----------------------------------------------------------

    def show(self, trace, x_max=None, moved=None) -> None:
        """Redraw for ``trace``; ``x_max`` widens the x axis; ``moved(drawing)`` repositions its steps."""
        d = drawing(trace)
        if moved is not None:
            d = moved(d)
        self.draw(d, x_max)

    def draw(self, d, x_max=None) -> None:
        """Redraw for the Drawing ``d`` (what ``show`` does once it has one)."""
        lanes = [ALARM_LANE] + d.lanes
        right = float(max(d.span, x_max or 0) + 1)
        self.steps, self.drawn = d.steps, d
        renamed = lanes != self.lanes
        if renamed:       # old and new lanes together while the marks move over (see the module's docstring)
            self.y.domain = [lane for lane in self.y.domain if lane not in lanes] + lanes[::-1]
            self._resize(lanes)
        px = self.px_per_x(right)
        self._batch = []             # computed first, then sent in one burst (see _update)
        self._bars(d, px)
        self._dots(d, px, right)
        self._points(self.calls, [(x, lane) for x, lane, _ in d.calls],
                     [f"the VM operation calls {hook}" for _, _, hook in d.calls])
        calls = [(x, lane, hook.replace("invalidate_", "")) for x, lane, hook in d.calls]
        self._label(self.call_text, self._rows(calls, place(calls, px, 1, CALL_TEXT_PX, bounds=(-0.5, right)), 0))
        self._points(self.clears, d.clears, ["the pte is cleared" for _ in d.clears])
        self._bands(d)
        self._alarms(d, px, right)
        self._veil(d, right, x_max)
        self._send(self._batch)
        self._batch = None
        if renamed:
            self.y.domain = lanes[::-1]   # an ordinal axis puts its first name at the bottom
            self.lanes = lanes

    def px_per_x(self, right: float) -> float:
        """Pixels per step at the narrowest the figure gets (x runs from -0.5 to ``right``)."""
        return (WIDTH_PX - self.left_px - RIGHT_PX) / (right + 0.5)

    @staticmethod
    def margin_for(lanes) -> int:
        """The left margin that fits the longest lane name."""
        return int(16 + max(text_px(lane, TICK_PX) for lane in lanes))

    def _resize(self, lanes) -> None:
        self.left_px = max(self.min_left_px, self.margin_for(lanes))
        self.figure.fig_margin = self._margin()
        plot = LANE_PX * len(lanes)
        self.figure.layout.height = f"{TOP_PX + BOTTOM_PX + plot}px"
        self.veil.stroke_width = plot

    def _bars(self, d, px) -> None:
        self._update(self.bars, x=d.bar_x or [[0, 0]], y=d.bar_y or [[ALARM_LANE] * 2],
                     colors=d.bar_colours or [palette.CLEAR], labels=d.bar_tips or [""])
        fits = [(x - span / 2 + 0.12, lane, text) for x, lane, text, span in d.bar_text
                if text_px(text, BAR_TEXT_PX, bold=True) < span * px - 8]
        self._label(self.bar_text, fits)

    def _dots(self, d, px, right) -> None:
        self._update(self.dots, x=d.dot_x or [0], y=d.dot_y or [ALARM_LANE], color=d.dot_roles or ["other"],
                     names=d.dot_tips or [""], opacities=[1.0] if d.dot_x else [0.0])
        items = list(zip(d.dot_x, d.dot_y, d.dot_text))
        rows = place(items, px, 2, DOT_TEXT_PX, important=lambda item: item[2] not in LOCK_WORDS, bounds=(-0.5, right))
        self._label(self.above, self._rows(items, rows, 0))
        self._label(self.below, self._rows(items, rows, 1))

    def _alarms(self, d, px, right) -> None:
        """Each step's broken invariants in capitals, in two rows, moved inside the plot if they would stick out."""
        titles: dict = {}
        for x, name in d.violations:
            titles.setdefault(x, []).append(invariant(name).title)
        items = []
        for x, names in sorted(titles.items()):
            text = " + ".join(names)
            if items and items[-1][2] == text and x - items[-1][3] <= 1:
                # the same alarm at consecutive steps (a sleeping lock at each step under the PTL): said once
                first = items[-1][4]
                items[-1] = ((first + x) / 2, ALARM_LANE, text, x, first)
            else:
                items.append((x, ALARM_LANE, text, x, x))
        items = [item[:3] for item in items]
        rows = place(items, px, 3, ALARM_PX, bold=True, bounds=(-0.5, right))
        for row, mark in enumerate(self.alarms):
            self._label(mark, self._rows(items, rows, row))
        # with all three rows taken (four alarms within a few steps) one gives way: its band still marks
        # the step, and the verdict above the figure names every invariant the run breaks

    @staticmethod
    def _rows(items, placed, row) -> list:
        """The items placed in ``row``, at the x ``place`` gave them."""
        return [(where[1], lane, text) for (_, lane, text), where in zip(items, placed)
                if where is not None and where[0] == row]

    def _veil(self, d, right, x_max) -> None:
        columns = range(0, int(max(d.span, x_max or 0)) + 1)
        self._update(self.veil, x=[[k - 0.5, k + 0.5] for k in columns] + [[right, right]],
                     y=[[0.5, 0.5]] * (len(columns) + 1), color=[float(k) for k in columns] + [-1.0])
        self._update(self.veil_scale, max=float(max(d.span, x_max or 0) + 2))

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
            ys.append([0.0, 0.0, 1.0, 1.0])
            colours.append(palette.VIOLATION)
            opacities.append(0.3)
        self._update(self.bands, x=xs, y=ys, colors=colours, fill_colors=colours, fill_opacities=opacities)

    def _label(self, mark, items) -> None:
        """Replace a Label's texts; an empty list leaves one empty text on the alarm lane (never no data)."""
        items = items or [(0.0, ALARM_LANE, "")]
        self._update(mark, x=[float(x) for x, _, _ in items], y=[y for _, y, _ in items],
                     text=[t for _, _, t in items])

    def _points(self, mark, items, tips) -> None:
        """Replace a Scatter's points; with none, one invisible point stays on the alarm lane."""
        self._update(mark, x=[x for x, _ in items] or [0], y=[y for _, y in items] or [ALARM_LANE],
                     names=list(tips) or [""], opacities=[1.0] if items else [0.0])

    def _update(self, mark, **values) -> None:
        """Send only what changed, in one message per mark: moving a handle by one step often leaves the
        windows, the calls or the veil as they were, and every message is a redraw in the browser.
        While ``draw`` computes, the changes wait in ``_batch`` so the browser gets them back to back."""
        sent = self._sent.setdefault(id(mark), {})
        changed = {name: value for name, value in values.items() if sent.get(name) != value}
        if changed:
            sent.update(changed)
            if self._batch is not None:
                self._batch.append((mark, changed))
            else:
                self._send([(mark, changed)])

    @staticmethod
    def _send(batch) -> None:
        for mark, changed in batch:
            with mark.hold_sync():
                for name, value in changed.items():
                    setattr(mark, name, value)
