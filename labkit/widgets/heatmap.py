"""The verdict matrix as a bqplot heat map (notebook 05): colour = how many invariants some schedule breaks.

Counts are whole numbers, so each gets its own colour (no colour bar that
suggests 1.5 invariants), and a grey for the cells where no such
configuration exists.  Each cell also carries the grid's letters, so colour
is never the only cue, and the rows run top to bottom in the order
:func:`labkit.tables.matrix.grid` prints them.
"""
from __future__ import annotations

import html

from ..core.invariants import TABLE
from ..tables.matrix import grid
from . import palette
from .shown import Shown

#: Shared with the window map: a cell where nothing breaks, and one that does not exist.
SAFE, EMPTY = "#e3f2e9", "#d0d0d0"
#: One colour per count of broken invariants: 0, 1, 2, and 3 or more (the legend says so).
COUNT_COLOURS = (SAFE, palette.YELLOW, palette.ORANGE, palette.VERMILLION)


def swatches_html(items, note: str = "") -> str:
    """A legend: one coloured square and its words per (colour, words) item."""
    spans = "".join(f'<span style="margin-right:12px;white-space:nowrap"><span style="display:inline-block;'
                    f'width:14px;height:12px;background:{colour};border:1px solid {palette.NEUTRAL};'
                    f'margin-right:4px;vertical-align:middle"></span>{html.escape(words)}</span>'
                    for colour, words in items)
    tail = f"<br>{html.escape(note)}" if note else ""
    return f'<div class="labkit-legend" style="font-size:12px;line-height:1.8">{spans}{tail}</div>'


class HeatMap(Shown):
    """A bqplot GridHeatMap of :func:`grid`: colour = how many invariants some schedule breaks.

    Displaying it shows the figure and its legend; its text form (what nbval
    compares) says what the figure encodes.  The letter table printed under
    it is the text alternative.
    """

    def __init__(self, table):
        import bqplot as bq
        import ipywidgets as widgets
        import numpy as np

        cells = grid(table)
        self.rows = [f"{op}/{scheme}" for op, scheme in cells.index]
        self.columns = [f"{secondary}/{refmode}" for secondary, refmode in cells.columns]
        counts = np.array([[np.nan if value == "" else 0 if value == "." else len(value) for value in row]
                           for row in cells.values])
        self.counts = counts
        # an ordinal axis puts its first name at the bottom: reversed, the first row is on top, as printed
        row_scale, column_scale = bq.OrdinalScale(domain=self.rows[::-1]), bq.OrdinalScale(domain=self.columns)
        # bqplot sends NaN as NaN, never as the null its null_color needs: "no such configuration" is -1
        top = len(COUNT_COLOURS) - 1
        colour = bq.ColorScale(min=-1, max=top, colors=[EMPTY, *COUNT_COLOURS])   # whole counts land on a colour
        self.mark = bq.GridHeatMap(row=self.rows, column=self.columns,
                                   color=np.where(np.isnan(counts), -1, np.minimum(counts, top)),
                                   stroke="#ffffff",
                                   scales={"row": row_scale, "column": column_scale, "color": colour})
        spots = [(column, row, value) for row, values in zip(self.rows, cells.values)
                 for column, value in zip(self.columns, values) if value]
        self.letters = bq.Label(x=[c for c, _, _ in spots], y=[r for _, r, _ in spots],
                                text=[v for _, _, v in spots], scales={"x": column_scale, "y": row_scale},
                                colors=[palette.INK], default_size=11, align="middle", y_offset=4)
        axes = [bq.Axis(scale=row_scale, side="left", label="", grid_lines="none"),
                bq.Axis(scale=column_scale, tick_rotate=-45, label="", grid_lines="none",
                        tick_style={"text-anchor": "end"})]
        self.figure = bq.Figure(marks=[self.mark, self.letters], axes=axes, animation_duration=0,
                                title="Invariants some schedule breaks, per configuration (2.6.27)",
                                padding_x=0.0, padding_y=0.0,
                                fig_margin={"top": 50, "bottom": 130, "left": 130, "right": 20},
                                layout={"width": "900px", "height": "680px"})
        self.figure.add_class("labkit-heatmap")
        words = ("0: nothing", "1 invariant", "2 invariants", "3 or more invariants")
        self.legend = widgets.HTML(swatches_html(
            list(zip(COUNT_COLOURS, words)) + [(EMPTY, "no such configuration")],
            "rows: op/scheme, as printed below; columns: secondary/refmode; the letters are the grid's: "
            + ", ".join(f"{record.letter} {record.words}" for record in TABLE)))
        self.widget = widgets.VBox([self.figure, self.legend])

    def __repr__(self) -> str:
        import numpy as np

        exists = ~np.isnan(self.counts)
        broken = int((self.counts[exists] > 0).sum())
        return (f"HeatMap({len(self.rows)} rows op/scheme x {len(self.columns)} columns secondary/refmode; "
                f"{broken} of {int(exists.sum())} configurations break at least one invariant)")


def heatmap(table) -> HeatMap:
    """Draw :func:`grid` of ``table`` as a heat map (display the result)."""
    return HeatMap(table)


__all__ = ["HeatMap", "heatmap", "swatches_html", "COUNT_COLOURS", "SAFE", "EMPTY"]
