"""The eras the lab can run in: where the VM operations call each hook, and in what context.

An era is data that :mod:`labkit.kernel.operations` reads; nothing else asks
which era it is.  How a secondary's fault walks in an era (which locks it
holds) belongs to the secondary and the era together: that is
:class:`labkit.kernel.secondaries.FaultLocks`.  The sources (commits, mail,
the trees read at their tags) are in docs/kernel-sites.md.

``2008-01``  Christoph Lameter's postings of the thread, as posted (core of 24,
             29 and 31 Jan 2008; the range patch of 31 Jan).  The code runs
             every callback inside rcu_read_lock(), ``mmu_notifier()`` and
             ``mmu_rmap_notifier()`` alike, so no callback may sleep, although
             the text wished for sleeping range callbacks and a sleeping rmap
             notifier ("We can sleep if atomic == 0"; XPMEM "needs to sleep").
             invalidate_range_begin comes right after tlb_gather_mmu, with
             preemption off (get_cpu_var); invalidate_page comes right after
             ptep_clear_flush in try_to_unmap_one, under the PTL; do_wp_page is
             bracketed: range_begin after cow_user_page, before the PTL is
             taken again, range_end after pte_unmap_unlock ("idea by Robin
             Holt", <20080201050623.344041545@sgi.com>).  A driver with its own
             reverse map (XPMEM) gets Lameter's rmap notifier after try_to_unmap
             walked the Linux rmaps, page lock held, inside rcu_read_lock().
             The 28 Jan version's single ``invalidate_range`` before
             pte_offset_map_lock and the 29 Jan version's single one after the
             unlock are not pairs and are not modelled.
``2.6.27``   what was merged (commit cddb8a5c14aa, July 2008): every callback
             under rcu_read_lock() (mm/mmu_notifier.c), so none may sleep;
             unmap_vmas' range_start and range_end run inside the caller's
             mmu_gather, with preemption off; invalidate_page under the PTL
             through ptep_clear_flush_notify.
``2012``     3.7 (commits 2ec74c3ef2d8 and 6bdb913f0a70, Sagi Grimberg and
             Haggai Eran, for RDMA on-demand paging; SRCU dispatch since
             21a92735): invalidate_page and the range callbacks outside the PTL,
             and allowed to sleep.  try_to_unmap_one calls invalidate_page after
             pte_unmap_unlock (until 4.10); do_wp_page brackets the pte change
             with range_start (after the copy) and range_end (after the unlock).
             clear_flush_young and change_pte stay under the PTL (not modelled).
             i_mmap_lock is a mutex since 3.0.
``2017``     4.13 (Jérôme Glisse, commits 369ea8242c0f and 5f32b265400d):
             invalidate_page removed; try_to_unmap_one brackets its walk with
             range_start/range_end and calls invalidate_range under the PTL;
             wp_page_copy clears with ptep_clear_flush_notify, which calls
             invalidate_range under the PTL; the mmu_gather calls it before it
             frees a batch; range_end calls it again.  (invalidate_range came
             in 3.19 for IOMMUv2/ATS devices, Joerg Roedel, 1897bdc4d331.)
             truncate takes i_mmap_lock_write (the i_mmap_rwsem).

Between them, 4.11 and 4.12 ran invalidate_page under the PTL again
(c7ab0d2fdc84, an unintended side effect that broke drivers that slept in it):
the placement the ``2.6.27`` era shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..core.messages import shown

#: Why a callback cannot sleep, in the words the traces and the status line use (the sources are in the
#: docstring above and in docs/kernel-sites.md, items 2, 3 and 18).
POSTED_DISPATCH = ("rcu_read_lock() around every callback, mmu_notifier() and mmu_rmap_notifier() alike "
                   "(Lameter's postings, 24-31 Jan 2008)")
RCU = "rcu_read_lock() around every callback (mm/mmu_notifier.c, 2.6.27)"
POSTED_GATHER = "preemption off: range_begin right after tlb_gather_mmu (get_cpu_var), as posted on 31 Jan 2008"
GATHER = "preemption off: unmap_vmas runs inside the caller's mmu_gather (tlb_gather_mmu -> get_cpu_var, 2.6.27)"
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
    dispatch: Optional[str]      # why no callback of this era may sleep (rcu_read_lock()), None from SRCU (3.7)
    unmap_start: Optional[str]   # what else keeps unmap_vmas' range_start atomic (preemption off), or None
    unmap_end: Optional[str]     # the same for its range_end
    rmap_hooks: str              # UNDER_PTL, AFTER_UNLOCK or BRACKET: try_to_unmap_one
    cow_hooks: str               # UNDER_PTL or BRACKET: do_wp_page / wp_page_copy
    cow_old_page_after_end: bool  # the COW drops its extra reference on the old page after range_end (3.7+)
    has_invalidate_page: bool    # whether a driver's invalidate_page is ever called
    has_invalidate_range: bool   # invalidate_range under the PTL and before an mmu_gather frees (3.19+)
    i_mmap_lock: str             # truncate's unmap_mapping_range takes the i_mmap lock: how, in the traces' words
    i_mmap_unlock: str
    i_mmap_lock_sleeps: bool     # that lock is a sleeping lock (a mutex from 3.0, the i_mmap_rwsem from 3.19)
    rmap_notifier: bool          # Lameter's rmap notifier for drivers with an rmap (posted, Jan 2008)
    clear_notify: str = "ptep_clear_flush_notify"   # how the per-page clear that notifies is written


ERA_LIST = (
    Era("2008-01", "Lameter's postings as posted: every callback inside rcu_read_lock(), rmap notifier included, "
        "so none may sleep (XPMEM needed to); range_begin after tlb_gather_mmu; COW bracketed by range_begin/end",
        "Lameter's 'MMU Notifiers' of 24-31 Jan 2008: core <20080130022944.236370194@sgi.com>, ranges "
        "<20080201050623.344041545@sgi.com>, rmap notifier <20080201050623.817624793@sgi.com>",
        dispatch=POSTED_DISPATCH, unmap_start=POSTED_GATHER, unmap_end=None,
        rmap_hooks=UNDER_PTL, cow_hooks=BRACKET, cow_old_page_after_end=False, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock="spin_lock(&mapping->i_mmap_lock)",
        i_mmap_unlock="spin_unlock(&mapping->i_mmap_lock)", i_mmap_lock_sleeps=False, rmap_notifier=True,
        clear_notify="ptep_clear_flush; mmu_notifier(invalidate_page, mm, address)"),
    Era("2.6.27", "what was merged: every callback under rcu_read_lock(), none may sleep; unmap_vmas' range "
        "callbacks also with preemption off",
        "commit cddb8a5c14aa (mmu-notifiers: core, July 2008)",
        dispatch=RCU, unmap_start=GATHER, unmap_end=GATHER,
        rmap_hooks=UNDER_PTL, cow_hooks=UNDER_PTL, cow_old_page_after_end=False, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock="spin_lock(&mapping->i_mmap_lock)",
        i_mmap_unlock="spin_unlock(&mapping->i_mmap_lock)", i_mmap_lock_sleeps=False, rmap_notifier=False),
    Era("2012", "3.7: invalidate_page and the range callbacks outside the PTL and allowed to sleep (SRCU); "
        "reclaim's invalidate_page after the unlock, COW bracketed by range_start/end; clear_flush_young and "
        "change_pte stay under the PTL",
        "commits 2ec74c3ef2d8 and 6bdb913f0a70 (Sagi Grimberg, Haggai Eran; Linux 3.7, 2012)",
        dispatch=None, unmap_start=None, unmap_end=None,
        rmap_hooks=AFTER_UNLOCK, cow_hooks=BRACKET, cow_old_page_after_end=True, has_invalidate_page=True,
        has_invalidate_range=False, i_mmap_lock="mutex_lock(&mapping->i_mmap_mutex)",
        i_mmap_unlock="mutex_unlock(&mapping->i_mmap_mutex)", i_mmap_lock_sleeps=True, rmap_notifier=False),
    Era("2017", "4.13: invalidate_page removed; range_start/end around every unmap and invalidate_range "
        "under the PTL",
        "commits 369ea8242c0f and 5f32b265400d (Jérôme Glisse; Linux 4.13, 2017)",
        dispatch=None, unmap_start=None, unmap_end=None,
        rmap_hooks=BRACKET, cow_hooks=BRACKET, cow_old_page_after_end=True, has_invalidate_page=False,
        has_invalidate_range=True, i_mmap_lock="i_mmap_lock_write(mapping) (down_write(&mapping->i_mmap_rwsem))",
        i_mmap_unlock="i_mmap_unlock_write(mapping)", i_mmap_lock_sleeps=True, rmap_notifier=False),
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


def atomic_context(*reasons) -> Optional[str]:
    """Why a call site cannot sleep, from every reason that holds there (None: it may sleep)."""
    held = [reason for reason in reasons if reason]
    return "; ".join(held) if held else None
