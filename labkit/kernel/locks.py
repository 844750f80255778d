"""The locks of the model: the page-table lock, the secondary MMU's lock, and mmap_sem.

PTL: 2.6.27 takes it with ``pte_offset_map_lock`` (mm/memory.c) or
``page_check_address`` (mm/rmap.c) and drops it with ``pte_unmap_unlock``.
mmu_lock: KVM's ``kvm->mmu_lock`` (virt/kvm/kvm_main.c, arch/x86/kvm/mmu.c).
mmap_sem: only with ``caller="munmap"``, which holds it for writing around the
whole unmap; the secondary fault then holds it for reading while it walks the
pte (get_user_pages is called under down_read in KVM's gfn_to_pfn).  The
fault's down_read and up_read ride on its PTL lock and unlock steps: no other
thread can act differently while the fault holds mmap_sem but not yet (or no
longer) the PTL, because the only other user of mmap_sem is munmap itself.
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


def _take_mmu_lock(s: System, t: int):
    return s._replace(mmu_lock=t) if s.mmu_lock == NOBODY else None


def _drop_mmu_lock(s: System, t: int):
    assert s.mmu_lock == t, "model bug: dropping an mmu_lock this thread does not hold"
    return s._replace(mmu_lock=NOBODY)


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


def lock_mmu(action: str, site: str, label=None, **extra) -> Step:
    return Step(action, _take_mmu_lock, site, kind=extra.pop("kind", LOCK), label=label, **extra)


def unlock_mmu(action: str, site: str, label=None, choose=None) -> Step:
    return Step(action, _drop_mmu_lock, site, kind=UNLOCK, label=label, choose=choose)
