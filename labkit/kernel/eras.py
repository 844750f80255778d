"""The eras the lab can run in: where the VM operations call each hook, and in what context.

An era is data that :mod:`labkit.kernel.operations` reads; nothing else asks
which era it is.

``2008-01``  the proposals of the thread: range callbacks called "outside the
             locks", so they may sleep; invalidate_page under the PTL.
``2.6.27``   what was merged (commit cddb8a5c14aa, July 2008): every callback
             under rcu_read_lock() (mm/mmu_notifier.c), so none may sleep.
``2012``     SRCU dispatch (Sagi Grimberg, commit 21a92735, 2012) and sleeping
             rmap locks (2011) let range callbacks sleep; invalidate_page still
             called under the PTL.
``2017``     invalidate_page removed (Jérôme Glisse, commit 5f32b265400d);
             commit 369ea8242c0f ("mm/rmap: update to new mmu_notifier semantic
             v2", 2017-08-31) brackets try_to_unmap_one's PTL section with
             range_start/range_end (COW already was).  The model has no separate
             invalidate_range hook (a driver's range_start already zapped).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

RCU = "rcu_read_lock() around every callback (mm/mmu_notifier.c, 2.6.27)"

#: Where a per-page unmap (rmap, COW) calls its hooks.
UNDER_PTL = "under_ptl"    # invalidate_page right after the pte clear, with the PTL held
BRACKET = "bracket"        # range_start before the PTL is taken, range_end after it is dropped


@dataclass(frozen=True)
class Era:
    name: str
    summary: str
    source: str                  # the commit (or message) the era starts with
    range_atomic: Optional[str]  # why unmap_vmas's range callbacks cannot sleep, or None if they may
    page_hooks: str              # UNDER_PTL or BRACKET
    has_invalidate_page: bool    # whether a driver's invalidate_page is ever called


ERA_LIST = (
    Era("2008-01", "the proposals in the thread: range callbacks outside the locks, so they may sleep",
        "Lameter's 'MMU Notifiers V2' <20080128202840.974253868@sgi.com> and the replies", None, UNDER_PTL, True),
    Era("2.6.27", "what was merged: every callback under rcu_read_lock(), none may sleep",
        "commit cddb8a5c14aa (mmu-notifiers: core, July 2008)", RCU, UNDER_PTL, True),
    Era("2012", "SRCU dispatch: range callbacks may sleep; invalidate_page still under the PTL",
        "commit 21a92735 (Sagi Grimberg, SRCU, 2012)", None, UNDER_PTL, True),
    Era("2017", "invalidate_page removed; rmap and COW bracket the PTL section with range_start/end",
        "commits 369ea8242c0f and 5f32b265400d (Jérôme Glisse, 2017)", None, BRACKET, False),
)
ERAS = {era.name: era for era in ERA_LIST}
#: What a Scenario runs in unless told otherwise.
DEFAULT_ERA = "2.6.27"


def era_named(name) -> Era:
    """The record of ``name``; a clear error naming the choices otherwise."""
    try:
        return ERAS[name]
    except (KeyError, TypeError):
        raise ValueError(f"era={name!r} is not valid; choose one of: {', '.join(ERAS)}") from None
