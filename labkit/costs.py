"""A cost model for the thread's performance claims, with every constant exposed as an assumption.

No public figure backs the kernel-path costs the thread argued about (an
atomic_inc on struct page, building KVM's rmap entry, a GRU software TLB
refill): see the brief's section on costs.  So :class:`Costs` holds them as
named, tunable assumptions in nanoseconds, and every function here says what
it multiplies.  The only counts taken from the model itself are *how many*
notifier calls and flushes an operation makes, and how often a fault
retries; those come from ``simulate`` on the same step functions as
everything else.

Public anchors: a GRU TLB invalidate takes "a few usec" (comment in
drivers/misc/sgi-gru/grutlbpurge.c); Jack Steiner measured about 1/7 as many
GRU TLB invalidates with range callbacks on the GRU test suite
(<20080221161028.GA14220@sgi.com).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .scenario import Scenario
from .schedules import interleave, vm_length
from .trace import simulate


@dataclass(frozen=True)
class Costs:
    """Assumed costs, in nanoseconds.  Change them: they are not measurements."""

    atomic_inc: float = 20.0          # get_page: a locked increment of page->_count (cache line may be remote)
    rmap_build: float = 150.0         # KVM: rmap_add and writing the spte (mmu_set_spte)
    software_walk: float = 250.0      # follow_page / get_user_pages: walk the Linux page table in software
    hardware_walk: float = 40.0       # the CPU walks the spte on a TLB miss (no software involved)
    gru_dropin: float = 300.0         # GRU: take the TLB-miss interrupt and write the dropin (tfh_write_restart)
    gru_tlb_invalidate: float = 3000.0  # "a few usec" (grutlbpurge.c)
    kvm_zap: float = 200.0            # KVM: kvm_unmap_hva plus its share of kvm_flush_remote_tlbs

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{f.name}={value!r}: a cost is a number of nanoseconds, 0 or more")

    def as_table(self):
        import pandas as pd
        return pd.DataFrame({"assumed ns": asdict(self)})


def fill_cost(refmode: str, secondary: str, costs: Costs = Costs()) -> dict:
    """What one secondary fault costs, split by part (claim C2: is the atomic_inc measurable?)."""
    Scenario(op="zap", scheme="none", refmode=refmode, secondary=secondary)  # validates the names
    parts = {"software walk": costs.software_walk}
    if refmode in ("pin", "gup_release"):
        parts["get_page (atomic_inc)"] = costs.atomic_inc
        if refmode == "gup_release":
            parts["put_page (atomic_dec)"] = costs.atomic_inc
    parts["install"] = costs.rmap_build if secondary == "kvm" else costs.gru_dropin
    return parts


def refcount_share(refmode: str, secondary: str, costs: Costs = Costs()) -> float:
    """Fraction of a fault's cost spent on the reference (0 when it takes none)."""
    parts = fill_cost(refmode, secondary, costs)
    refs = sum(v for k, v in parts.items() if "atomic" in k)
    total = sum(parts.values())
    return refs / total if total else 0.0


def access_cost(secondary: str, accesses: int, tlb_misses: int, refmode: str = "pin",
                costs: Costs = Costs()) -> float:
    """Total ns for ``accesses`` guest accesses that miss the TLB ``tlb_misses`` times (claim C1).

    KVM fills the spte once by software; every later miss is a hardware walk
    of the spte.  The GRU is a TLB with no page table of its own: every miss
    is a software refill (interrupt, page-table walk, dropin).
    """
    if tlb_misses > accesses or accesses < 0 or tlb_misses < 0:
        raise ValueError(f"tlb_misses={tlb_misses} must be between 0 and accesses={accesses}")
    first = sum(fill_cost(refmode, secondary, costs).values()) if accesses else 0.0
    if secondary == "kvm":
        return first + max(tlb_misses - 1, 0) * costs.hardware_walk
    return tlb_misses * sum(fill_cost(refmode, secondary, costs).values())


def notifier_work(op: str, scheme: str, pages: int, secondary: str = "kvm", costs: Costs = Costs()) -> dict:
    """Count, from an in-order run of the model, the callbacks and flushes one operation on ``pages`` pages makes.

    ``rmap`` reclaims the pages one by one (one invalidate_page each); ``zap``
    unmaps them as one range (range_start and range_end).  Returns the counts
    and their cost under ``costs`` (a GRU flush or a KVM zap per flush).
    """
    scenario = Scenario(op=op, scheme=scheme, refmode="off", secondary=secondary, pages=pages, accesses=0,
                        allocator=False)
    trace = simulate(scenario, "in_order")
    vm = [move.step for move in trace.moves if move.thread == 0]
    calls = sum(1 for step in vm if step.calls)
    flushes = sum(1 for step in vm if step.kind == "zap")
    unit = costs.gru_tlb_invalidate if secondary == "gru" else costs.kvm_zap
    return {"pages": pages, "callbacks": calls, "flushes": flushes, "flush ns": flushes * unit}


def retry_rate(scenario: Scenario) -> dict:
    """Over every (read, install) position of the slider, how often the fault had to retry."""
    n = vm_length(scenario)
    positions = retried = 0
    for read in range(n + 1):
        for install in range(read, n + 1):
            trace = simulate(scenario, interleave(scenario, read, install))
            positions += 1
            fault = [m.step for m in trace.moves if trace.model.names[m.thread] == "fault"]
            retried += any(step.label in ("retry", "refused") for step in fault)
    return {"positions": positions, "retried": retried, "retry share": retried / positions if positions else 0.0}
