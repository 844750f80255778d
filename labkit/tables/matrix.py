"""The verdict matrix arranged for notebook 05 ("Every interleaving").

Nothing here decides a verdict: :func:`matrix` calls :func:`labkit.verdicts`
and only adds a ``history`` column (which rows a kernel or a posted proposal
actually had), :func:`grid` folds the rows into a letter table (drawn as a
heat map by :mod:`labkit.widgets.heatmap`), and :func:`growth` counts states
as a scenario grows.  Every output is deterministic text (no timings), so
nbval can check it.

    >>> table = matrix()                       # doctest: +SKIP
    >>> print(grid(table).to_string())         # doctest: +SKIP
"""
from __future__ import annotations

from ..core.invariants import INVARIANTS
from ..kernel.schemes import BUILTIN_SCHEMES
from ..search.explore import explore
from ..search.verdicts import verdicts
from .stories import letters as letters_of

#: The thread's six schemes plus the GRU driver as merged.
MATRIX_SCHEMES = BUILTIN_SCHEMES + ("gru",)

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


def matrix(schemes=MATRIX_SCHEMES, **kwargs):
    """``labkit.verdicts`` with a ``history`` column and without the ``seconds`` column (timings vary)."""
    table = verdicts(schemes=schemes, **kwargs).drop(columns=["seconds"])
    table["history"] = [history(s, r, d) for s, r, d in zip(table.scheme, table.refmode, table.secondary)]
    return table


def letters(row) -> str:
    """``U``/``S``/``R``/``A`` for each invariant some schedule breaks, ``?`` if some are unknown, else ``.``."""
    return letters_of([name for name in INVARIANTS if row[name] == "yes"],
                      [name for name in INVARIANTS if row[name] == "unknown"])


def grid(table):
    """One row per op and scheme, one column per secondary and refmode; cells are :func:`letters`.

    A cell is empty where the scheme cannot drive that secondary (the ``gru``
    scheme needs the GRU): there is no such configuration.
    """
    frame = table.assign(cell=[letters(row) for _, row in table.iterrows()])
    pivot = frame.pivot_table(index=["op", "scheme"], columns=["secondary", "refmode"], values="cell",
                              aggfunc="first", sort=False)
    return pivot.fillna("")


def growth(scenario, field: str, values):
    """States, transitions and verdict of ``scenario`` as one field (pages, vcpus, ...) takes ``values``."""
    import pandas as pd

    rows = []
    for value in values:
        found = explore(scenario.replace(**{field: value}))
        rows.append({field: value, "states": found.states, "transitions": found.transitions,
                     "terminal": found.terminal, "broken": found.verdict_words()})
    return pd.DataFrame(rows)


__all__ = ["MATRIX_SCHEMES", "HISTORY", "history", "matrix", "letters", "grid", "growth"]
