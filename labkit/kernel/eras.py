"""The eras the lab can run in: where the VM operations call each hook, and in what context.

An era is data that :mod:`labkit.kernel.operations` reads; nothing else asks
which era it is.  How a secondary's fault walks in an era (which locks it
holds) belongs to the secondary and the era together: that is
:class:`labkit.kernel.secondaries.FaultLocks`.  The sources (commits, mail,
the stored copies that were read) are in docs/kernel-sites.md.

``2008-01``  the proposals of the thread (Lameter's "MMU Notifiers V2", 28 Jan
             2008, and the replies): range callbacks called "outside the locks",
             so they may sleep; invalidate_page under the PTL; and, for a driver
             with its own reverse map (XPMEM), Lameter's rmap notifier, called
             after try_to_unmap has walked the Linux rmaps, with the page lock
             held and no spinlock (<20080128202924.095881796@sgi.com).
``2.6.27``   what was merged (commit cddb8a5c14aa, July 2008): every callback
             under rcu_read_lock() (mm/mmu_notifier.c), so none may sleep;
             invalidate_page under the PTL through ptep_clear_flush_notify.
``2012``     3.7 (commits 2ec74c3ef2d8 and 6bdb913f0a70, Sagi Grimberg and
             Haggai Eran, for RDMA on-demand paging; SRCU dispatch since
             21a92735): every callback outside the PTL and allowed to sleep.
             try_to_unmap_one calls invalidate_page after pte_unmap_unlock
             (until 4.10); do_wp_page brackets the pte change with
             range_start (after the copy) and range_end (after the unlock).
             i_mmap_lock is a mutex since 3.0.
``2017``     4.13 (Jérôme Glisse, commits 369ea8242c0f and 5f32b265400d):
             invalidate_page removed; try_to_unmap_one brackets its walk with
             range_start/range_end and calls invalidate_range under the PTL;
             wp_page_copy clears with ptep_clear_flush_notify, which calls
             invalidate_range under the PTL; the mmu_gather calls it before it
             frees a batch; range_end calls it again.  (invalidate_range came
             in 3.19 for IOMMUv2/ATS devices, Joerg Roedel, 1897bdc4d331.)

Between them, 4.11 and 4.12 ran invalidate_page under the PTL again
(c7ab0d2fdc84, an unintended side effect that broke drivers that slept in it):
the placement the ``2.6.27`` era shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..core.messages import shown

RCU = "rcu_read_lock() around every callback (mm/mmu_notifier.c, 2.6.27)"
I_MMAP_LOCK = "i_mmap_lock (a spinlock until 3.0) held in unmap_mapping_range"

#: Where a per-page unmap (reclaim, COW) calls its hooks.
UNDER_PTL = "under_ptl"          # invalidate_page right after the pte clear, with the PTL held
AFTER_UNLOCK = "after_unlock"    # invalidate_page after pte_unmap_unlock (reclaim, 3.7 to 4.10)
BRACKET = "bracket"              # range_start before the PTL is taken, range_end after it is dropped


@dataclass(frozen=True)
class Era:
    """Where and in what context the hooks are called in one era of the kernel."""

    name: str
    summary: str
    source: str                  # the commit (or message) the era starts with
    range_atomic: Optional[str]  # why unmap_vmas's range callbacks cannot sleep, or None if they may
    rmap_hooks: str              # UNDER_PTL, AFTER_UNLOCK or BRACKET: try_to_unmap_one
    cow_hooks: str               # UNDER_PTL or BRACKET: do_wp_page / wp_page_copy
    has_invalidate_page: bool    # whether a driver's invalidate_page is ever called
    has_invalidate_range: bool   # invalidate_range under the PTL and before an mmu_gather frees (3.19+)
    i_mmap_lock_sleeps: bool     # truncate's unmap_mapping_range holds a sleeping lock (3.0+)
    rmap_notifier: bool          # Lameter's rmap notifier for drivers with an rmap (proposed, Jan 2008)


ERA_LIST = (
    Era("2008-01", "the proposals in the thread: range callbacks outside the locks, so they may sleep; "
        "Lameter's rmap notifier for XPMEM",
        "Lameter's 'MMU Notifiers V2' <20080128202840.974253868@sgi.com> and the replies",
        range_atomic=None, rmap_hooks=UNDER_PTL, cow_hooks=UNDER_PTL, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock_sleeps=False, rmap_notifier=True),
    Era("2.6.27", "what was merged: every callback under rcu_read_lock(), none may sleep",
        "commit cddb8a5c14aa (mmu-notifiers: core, July 2008)",
        range_atomic=RCU, rmap_hooks=UNDER_PTL, cow_hooks=UNDER_PTL, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock_sleeps=False, rmap_notifier=False),
    Era("2012", "3.7: every notification outside the PTL and allowed to sleep; reclaim's invalidate_page "
        "after the unlock, COW bracketed by range_start/end",
        "commits 2ec74c3ef2d8 and 6bdb913f0a70 (Sagi Grimberg, Haggai Eran; Linux 3.7, 2012)",
        range_atomic=None, rmap_hooks=AFTER_UNLOCK, cow_hooks=BRACKET, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock_sleeps=True, rmap_notifier=False),
    Era("2017", "4.13: invalidate_page removed; range_start/end around every unmap and invalidate_range "
        "under the PTL",
        "commits 369ea8242c0f and 5f32b265400d (Jérôme Glisse; Linux 4.13, 2017)",
        range_atomic=None, rmap_hooks=BRACKET, cow_hooks=BRACKET, has_invalidate_page=False,
        has_invalidate_range=True, i_mmap_lock_sleeps=True, rmap_notifier=False),
)
ERAS = {era.name: era for era in ERA_LIST}
#: What a Scenario runs in unless told otherwise.
DEFAULT_ERA = "2.6.27"


def era_named(name) -> Era:
    """The record of ``name``; a clear error naming the choices otherwise."""
    try:
        return ERAS[name]
    except (KeyError, TypeError):
        raise ValueError(f"era={shown(name)} is not valid; choose one of: {', '.join(ERAS)}") from None
