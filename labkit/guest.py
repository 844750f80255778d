"""The guest (or the device): it uses whatever its secondary MMU entry maps.

One step reads the entry and uses the page.  That is honest because every zap
is followed by a secondary TLB flush (kvm_flush_remote_tlbs in KVM, the GRU TLB
purge) that waits for accesses already in flight: an access either happens
entirely before a zap or sees the entry gone.  With no entry the access misses
and would fault; the fault thread models that separately.
"""
from __future__ import annotations

from .program import Step, link

ACCESS = {
    "kvm": ("vcpu_enter_guest: guest access, the CPU walks the spte in hardware",
            "arch/x86/kvm/x86.c vcpu_enter_guest (the vCPU runs in guest mode)"),
    "gru": ("GRU instruction: the GRU TLB translates the address",
            "drivers/misc/sgi-gru (the GRU's hardware TLB)"),
    "xpmem": ("xpmem remote access: the remote host uses the exported page",
              "XPMEM remote mapping (out of tree)"),
}


def guest_program(secondary, accesses: int, npages: int):
    action, site = ACCESS[secondary.name]
    steps = [Step(action, _use, site, kind="access", label=f"access{i}") for i in range(accesses)]
    program = link("guest", steps)
    return program, tuple(i % npages for i in range(accesses))


def _use(s, t):
    return s   # the access changes nothing; invariants.step_violations judges it
