"""The locks of the model: the page-table lock, the secondary MMU's lock, mmap_sem and the page lock.

PTL: 2.6.27 takes it with ``pte_offset_map_lock`` (mm/memory.c) or
``page_check_address`` (mm/rmap.c) and drops it with ``pte_unmap_unlock``.
mmu_lock: KVM's ``kvm->mmu_lock`` (virt/kvm/kvm_main.c, arch/x86/kvm/mmu.c);
for XPMEM a sleeping lock, so taking it may sleep.
mmap_sem: munmap holds it for writing around the whole unmap (mm/mmap.c
sys_munmap); madvise(MADV_DONTNEED) for reading (mm/madvise.c
madvise_need_mmap_write returns 0 for it).  Where a secondary's fault holds
mmap_sem around its walk alone (KVM's gfn_to_pfn calling get_user_pages under
down_read in 2.6.27), the fault's down_read and up_read ride on its PTL lock
and unlock steps: no other thread acts differently while the fault holds
mmap_sem but not yet (or no longer) the PTL, because the only writer of
mmap_sem in these scenarios is munmap itself.  A fault that holds it from
before the walk to the install (the GRU) takes and drops it in steps of its
own (:mod:`labkit.kernel.fault`).
page lock: reclaim holds lock_page on the page from before try_to_unmap until
shrink_page_list is done with it; do_swap_page's lock_page on that page waits
for it.  Only reclaim takes a page lock in these scenarios, so the state
records which page is locked (``System.page_lock``), not by whom.
A step that finds its lock held returns None: the thread is blocked and the
scheduler must run someone else.
"""
from __future__ import annotations

from ..core.kinds import LOCK, UNLOCK
from ..core.program import Step
from ..core.state import NOBODY, System


def _take_ptl(s: System, t: int):
    return s._replace(ptl=t) if s.ptl == NOBODY else None


def _drop_ptl(s: System, t: int):
    assert s.ptl == t, "model bug: dropping a PTL this thread does not hold"
    return s._replace(ptl=NOBODY)


def _take_ptl_and_mmap_sem(s: System, t: int):
    return s._replace(ptl=t, mmap_sem=s.mmap_sem + 1) if s.ptl == NOBODY and s.mmap_sem >= 0 else None


def _drop_ptl_and_mmap_sem(s: System, t: int):
    assert s.ptl == t and s.mmap_sem > 0, "model bug: dropping a PTL or mmap_sem this thread does not hold"
    return s._replace(ptl=NOBODY, mmap_sem=s.mmap_sem - 1)


def _down_write(s: System, t: int):
    return s._replace(mmap_sem=-1) if s.mmap_sem == 0 else None


def _up_write(s: System, t: int):
    assert s.mmap_sem == -1, "model bug: up_write without down_write"
    return s._replace(mmap_sem=0)


def _down_read(s: System, t: int):
    return s._replace(mmap_sem=s.mmap_sem + 1) if s.mmap_sem >= 0 else None


def _up_read(s: System, t: int):
    assert s.mmap_sem > 0, "model bug: up_read without down_read"
    return s._replace(mmap_sem=s.mmap_sem - 1)


def _take_mmu_lock(s: System, t: int):
    return s._replace(mmu_lock=t) if s.mmu_lock == NOBODY else None


def _drop_mmu_lock(s: System, t: int):
    assert s.mmu_lock == t, "model bug: dropping an mmu_lock this thread does not hold"
    return s._replace(mmu_lock=NOBODY)


def _lock_page(pfn: int):
    def run(s: System, t: int):
        return s._replace(page_lock=pfn) if s.page_lock == NOBODY else None
    return run


def _unlock_page(s: System, t: int):
    assert s.page_lock != NOBODY, "model bug: unlock_page of a page nobody locked"
    return s._replace(page_lock=NOBODY)


def lock_ptl(action: str, site: str, label=None, mmap_sem: bool = False) -> Step:
    """Take the PTL (with ``mmap_sem``: down_read(mmap_sem) first, in the same step)."""
    if mmap_sem:
        return Step(f"down_read(mmap_sem); {action}", _take_ptl_and_mmap_sem, site, kind=LOCK, label=label)
    return Step(action, _take_ptl, site, kind=LOCK, label=label)


def unlock_ptl(action: str, site: str, label=None, choose=None, mmap_sem: bool = False) -> Step:
    """Drop the PTL (with ``mmap_sem``: then up_read(mmap_sem), in the same step)."""
    if mmap_sem:
        return Step(f"{action}; up_read(mmap_sem)", _drop_ptl_and_mmap_sem, site, kind=UNLOCK, label=label,
                    choose=choose)
    return Step(action, _drop_ptl, site, kind=UNLOCK, label=label, choose=choose)


def down_write_mmap_sem(action: str, site: str) -> Step:
    return Step(action, _down_write, site, kind=LOCK)


def up_write_mmap_sem(action: str, site: str) -> Step:
    return Step(action, _up_write, site, kind=UNLOCK)


def down_read_mmap_sem(action: str, site: str, label=None) -> Step:
    return Step(action, _down_read, site, kind=LOCK, label=label)


def up_read_mmap_sem(action: str, site: str, label=None) -> Step:
    return Step(action, _up_read, site, kind=UNLOCK, label=label)


def lock_mmu(action: str, site: str, label=None, may_sleep: bool = False, **extra) -> Step:
    """Take the secondary's lock; ``may_sleep`` for a driver whose lock is a sleeping lock (XPMEM)."""
    return Step(action, _take_mmu_lock, site, kind=extra.pop("kind", LOCK), label=label, may_sleep=may_sleep,
                **extra)


def unlock_mmu(action: str, site: str, label=None, choose=None) -> Step:
    return Step(action, _drop_mmu_lock, site, kind=UNLOCK, label=label, choose=choose)


def lock_page(pfn: int, action: str, site: str) -> Step:
    """lock_page(page): only reclaim takes it here, so the state records which page is locked."""
    return Step(action, _lock_page(pfn), site, kind=LOCK)


def unlock_page(action: str, site: str) -> Step:
    return Step(action, _unlock_page, site, kind=UNLOCK)
