"""The verdict matrix arranged for notebook 05 ("Every interleaving").

Nothing here decides a verdict: :func:`matrix` calls :func:`labkit.verdicts`
and only adds a ``history`` column (which rows a kernel or a posted proposal
actually had), :func:`grid` folds the rows into a letter table, :func:`heatmap`
draws that table with bqplot, and :func:`growth` counts states as a scenario
grows.  Every output is deterministic text (no timings), so nbval can check it.

    >>> table = matrix()                       # doctest: +SKIP
    >>> print(grid(table).to_string())         # doctest: +SKIP
"""
from __future__ import annotations

from .compare import SHORT
from .explore import explore
from .invariants import INVARIANTS
from .schemes import BUILTIN_SCHEMES
from .verdicts import verdicts

#: The thread's six schemes plus the GRU driver as merged.
SCHEMES = BUILTIN_SCHEMES + ("gru",)

_LAMETER = "proposed: Lameter, 30 Jan 2008 <Pine.LNX.4.64.0801301728110.2454@schroedinger.engr.sgi.com>"

#: (scheme, refmode, secondary) -> where it existed.  Only configurations with a cited source.
HISTORY = {
    ("none", "pin", "kvm"): "KVM before notifiers (the 2.6.26 form): get_user_pages pins the page while an spte maps it",
    ("range_seq", "pin", "kvm"): "KVM 2.6.27: mmu_notifier_seq/count; the spte keeps its reference until rmap_remove",
    ("range_seq", "gup_release", "kvm"): "KVM from commit acb66dd051d0 (2009): reference dropped in mmu_set_spte",
    ("gru", "off", "gru"): "GRU driver (drivers/misc/sgi-gru, 2008): ms_range_active plus the hardware dropin rule",
    ("range", "pin", "kvm"): "proposed: Arcangeli, 31 Jan 2008 <20080131105241.GH7185@v2.random>",
    ("range_block", "off", "kvm"): _LAMETER,
    ("range_block", "off", "gru"): _LAMETER,
    ("range_block", "off", "xpmem"): _LAMETER + "; Holt's block/unblock <20080130161123.GS26420@sgi.com>",
}


def history(scheme: str, refmode: str, secondary: str) -> str:
    """Which kernel or posted proposal had this configuration ("" for a what-if row)."""
    return HISTORY.get((scheme, refmode, secondary), "")


def matrix(schemes=SCHEMES, **kwargs):
    """``labkit.verdicts`` with a ``history`` column and without the ``seconds`` column (timings vary)."""
    table = verdicts(schemes=schemes, **kwargs).drop(columns=["seconds"])
    table["history"] = [history(s, r, d) for s, r, d in zip(table.scheme, table.refmode, table.secondary)]
    return table


def letters(row) -> str:
    """``U``/``S``/``R``/``A`` for each invariant some schedule breaks, ``.`` when none is."""
    return "".join(SHORT[name] for name in INVARIANTS if row[name] == "yes") or "."


def grid(table):
    """One row per op and scheme, one column per secondary and refmode; cells are :func:`letters`."""
    frame = table.assign(cell=[letters(row) for _, row in table.iterrows()])
    pivot = frame.pivot_table(index=["op", "scheme"], columns=["secondary", "refmode"], values="cell",
                              aggfunc="first", sort=False)
    return pivot


class HeatMap:
    """A bqplot GridHeatMap of :func:`grid`: colour = how many invariants some schedule breaks.

    Displaying it shows the figure; its text form (what nbval compares) says
    what the figure encodes.  The letter table printed under it is the text
    alternative.
    """

    def __init__(self, table):
        import bqplot as bq
        import numpy as np

        from .widgets import palette

        cells = grid(table)
        self.rows = [f"{op}/{scheme}" for op, scheme in cells.index]
        self.columns = [f"{secondary}/{refmode}" for secondary, refmode in cells.columns]
        counts = np.array([[0 if value == "." else len(value) for value in row] for row in cells.values])
        self.counts = counts
        row_scale, column_scale = bq.OrdinalScale(), bq.OrdinalScale()
        colour = bq.ColorScale(min=0, max=3, colors=["#ffffff", palette.ORANGE, palette.VERMILLION])
        self.mark = bq.GridHeatMap(row=self.rows, column=self.columns, color=counts, stroke="#bbbbbb",
                                   scales={"row": row_scale, "column": column_scale, "color": colour})
        axes = [bq.Axis(scale=row_scale, orientation="vertical", label=""),
                bq.Axis(scale=column_scale, tick_rotate=-40, label=""),
                bq.ColorAxis(scale=colour, label="invariants broken", side="right")]
        self.figure = bq.Figure(marks=[self.mark], axes=axes, animation_duration=0,
                                fig_margin={"top": 20, "bottom": 110, "left": 130, "right": 80},
                                layout={"width": "900px", "height": "620px"})

    def __repr__(self) -> str:
        broken = int((self.counts > 0).sum())
        return (f"HeatMap({len(self.rows)} rows op/scheme x {len(self.columns)} columns secondary/refmode; "
                f"{broken} of {self.counts.size} configurations break at least one invariant)")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.figure._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


def heatmap(table) -> HeatMap:
    """Draw :func:`grid` of ``table`` as a heat map (display the result)."""
    return HeatMap(table)


def growth(scenario, field: str, values):
    """States, transitions and verdict of ``scenario`` as one field (pages, vcpus, ...) takes ``values``."""
    import pandas as pd

    rows = []
    for value in values:
        found = explore(scenario.replace(**{field: value}))
        broken = [name for name in INVARIANTS if found.violated[name]]
        rows.append({field: value, "states": found.states, "transitions": found.transitions,
                     "terminal": found.terminal, "broken": ", ".join(broken) or "nothing"})
    return pd.DataFrame(rows)


__all__ = ["SCHEMES", "HISTORY", "history", "matrix", "letters", "grid", "HeatMap", "heatmap", "growth"]
