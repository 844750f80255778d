"""The guest (or the device): it reads whatever its secondary MMU entry maps.

One step reads the entry and the page's data.  That is honest because every
zap is followed by a secondary TLB flush (kvm_flush_remote_tlbs in KVM, the
GRU TLB purge, the IOMMU's invalidation completion wait) that waits for
accesses already in flight: an access either happens entirely before a zap
or sees the entry gone.  With no entry the access misses and would fault; the
fault thread models that separately, except for a device behind an IOMMU
that shares the page table, whose IOMMU walks the CPU page table on the miss
itself (:func:`labkit.kernel.fault.fill_translation`) and then reads.

The access remembers the newest value it has read (``seen``): the
``store_order`` invariant compares later reads with it.
"""
from __future__ import annotations

from ..core.kinds import ACCESS
from ..core.program import Step, link
from ..core.state import System, local, with_local
from .fault import fill_translation


def guest_program(secondary, targets: tuple):
    """One access per entry of ``targets`` (the virtual page each reads), in that order."""
    steps = [Step(secondary.access, _reader(vpage, secondary.translates_on_miss), secondary.access_site,
                  kind=ACCESS, label=f"access{i}")
             for i, vpage in enumerate(targets)]
    return link("guest", steps)


def guest_targets(op: str, accesses: int, npages: int) -> tuple:
    """Round robin over the pages; for ``cow2`` each access is the pair the documentation describes: B, then A."""
    if op == "cow2":
        return (1, 0) * accesses
    return tuple(i % npages for i in range(accesses))


def _reader(vpage: int, translates: bool):
    fill = fill_translation(vpage)

    def run(s: System, t: int) -> System:
        if translates and s.sptes[vpage] is None:
            s = fill(s, t)
        spte = s.sptes[vpage]
        if spte is None:
            return s                      # a miss: the access would fault
        value = s.pages[spte.pfn].value
        return with_local(s, t, seen=value) if value > local(s, t, "seen", 0) else s
    return run
