"""The guest (or the device): it uses whatever its secondary MMU entry maps.

One step reads the entry and uses the page.  That is honest because every zap
is followed by a secondary TLB flush (kvm_flush_remote_tlbs in KVM, the GRU TLB
purge) that waits for accesses already in flight: an access either happens
entirely before a zap or sees the entry gone.  With no entry the access misses
and would fault; the fault thread models that separately.
"""
from __future__ import annotations

from ..core.kinds import ACCESS
from ..core.program import Step, link


def guest_program(secondary, accesses: int, npages: int):
    """``accesses`` uses of the pages, round robin; returns the program and the page each access uses."""
    steps = [Step(secondary.access, _use, secondary.access_site, kind=ACCESS, label=f"access{i}")
             for i in range(accesses)]
    program = link("guest", steps)
    return program, tuple(i % npages for i in range(accesses))


def _use(s, t):
    return s   # the access changes nothing; invariants.step_violations judges it
