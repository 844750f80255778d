"""The verdict matrix as a bqplot heat map (notebook 05): colour = how many invariants some schedule breaks."""
from __future__ import annotations

from ..tables.matrix import grid
from . import palette


class HeatMap:
    """A bqplot GridHeatMap of :func:`grid`: colour = how many invariants some schedule breaks.

    Displaying it shows the figure; its text form (what nbval compares) says
    what the figure encodes.  The letter table printed under it is the text
    alternative.
    """

    def __init__(self, table):
        import bqplot as bq
        import numpy as np

        cells = grid(table)
        self.rows = [f"{op}/{scheme}" for op, scheme in cells.index]
        self.columns = [f"{secondary}/{refmode}" for secondary, refmode in cells.columns]
        counts = np.array([[np.nan if value == "" else 0 if value == "." else len(value) for value in row]
                           for row in cells.values])
        self.counts = counts
        row_scale, column_scale = bq.OrdinalScale(), bq.OrdinalScale()
        colour = bq.ColorScale(min=0, max=3, colors=["#ffffff", palette.ORANGE, palette.VERMILLION])
        self.mark = bq.GridHeatMap(row=self.rows, column=self.columns, color=counts, stroke="#bbbbbb",
                                   null_color="#e0e0e0",
                                   scales={"row": row_scale, "column": column_scale, "color": colour})
        axes = [bq.Axis(scale=row_scale, orientation="vertical", label=""),
                bq.Axis(scale=column_scale, tick_rotate=-40, label=""),
                bq.ColorAxis(scale=colour, label="invariants broken", side="right")]
        self.figure = bq.Figure(marks=[self.mark], axes=axes, animation_duration=0,
                                fig_margin={"top": 20, "bottom": 110, "left": 130, "right": 80},
                                layout={"width": "900px", "height": "620px"})

    def __repr__(self) -> str:
        import numpy as np

        exists = ~np.isnan(self.counts)
        broken = int((self.counts[exists] > 0).sum())
        return (f"HeatMap({len(self.rows)} rows op/scheme x {len(self.columns)} columns secondary/refmode; "
                f"{broken} of {int(exists.sum())} configurations break at least one invariant)")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.figure._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


def heatmap(table) -> HeatMap:
    """Draw :func:`grid` of ``table`` as a heat map (display the result)."""
    return HeatMap(table)


__all__ = ["HeatMap", "heatmap"]
