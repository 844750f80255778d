"""The two spinlocks of the model: the page-table lock and the secondary MMU's lock.

PTL: 2.6.27 takes it with ``pte_offset_map_lock`` (mm/memory.c) or
``page_check_address`` (mm/rmap.c) and drops it with ``pte_unmap_unlock``.
mmu_lock: KVM's ``kvm->mmu_lock`` (virt/kvm/kvm_main.c, arch/x86/kvm/mmu.c).
A step that finds its lock held returns None: the thread is blocked and the
scheduler must run someone else.
"""
from __future__ import annotations

from .program import Step
from .state import NOBODY, System


def _take_ptl(s: System, t: int):
    return s._replace(ptl=t) if s.ptl == NOBODY else None


def _drop_ptl(s: System, t: int):
    assert s.ptl == t, "model bug: dropping a PTL this thread does not hold"
    return s._replace(ptl=NOBODY)


def _take_mmu_lock(s: System, t: int):
    return s._replace(mmu_lock=t) if s.mmu_lock == NOBODY else None


def _drop_mmu_lock(s: System, t: int):
    assert s.mmu_lock == t, "model bug: dropping an mmu_lock this thread does not hold"
    return s._replace(mmu_lock=NOBODY)


def lock_ptl(action: str, site: str, label=None) -> Step:
    return Step(action, _take_ptl, site, kind="lock", label=label)


def unlock_ptl(action: str, site: str, label=None, choose=None) -> Step:
    return Step(action, _drop_ptl, site, kind="unlock", label=label, choose=choose)


def lock_mmu(action: str, site: str, label=None, **extra) -> Step:
    return Step(action, _take_mmu_lock, site, kind=extra.pop("kind", "lock"), label=label, **extra)


def unlock_mmu(action: str, site: str, label=None, choose=None) -> Step:
    return Step(action, _drop_mmu_lock, site, kind="unlock", label=label, choose=choose)
