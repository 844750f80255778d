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
from functools import lru_cache

from ..core.kinds import ZAP
from ..core.messages import shown
from ..kernel.secondaries import secondary_named
from ..scenario import Scenario
from ..search.schedules import interleave, vm_length
from ..search.trace import simulate


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
                raise ValueError(f"{f.name}={shown(value)}: a cost is a number of nanoseconds, 0 or more")

    def as_table(self):
        import pandas as pd
        return pd.DataFrame({"assumed ns": asdict(self)})


def fill_cost(refmode: str, secondary: str, costs: Costs = Costs()) -> dict:
    """What one secondary fault costs, split by part (claim C2: is the atomic_inc measurable?)."""
    driver = Scenario(op="zap", scheme="none", refmode=refmode, secondary=secondary).secondary_record
    parts = {"software walk": costs.software_walk}
    if refmode in ("pin", "gup_release"):
        parts["get_page (atomic_inc)"] = costs.atomic_inc
        if refmode == "gup_release":
            parts["put_page (atomic_dec)"] = costs.atomic_inc
    parts["install"] = getattr(costs, driver.install_cost)
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
        raise ValueError(f"tlb_misses={shown(tlb_misses)} must be between 0 and accesses={shown(accesses)}")
    first = sum(fill_cost(refmode, secondary, costs).values()) if accesses else 0.0
    if secondary_named(secondary).walks_in_hardware:
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
    flushes = sum(1 for step in vm if step.kind == ZAP)
    unit = getattr(costs, scenario.secondary_record.flush_cost)
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


@lru_cache(maxsize=None)
def retries(op: str) -> dict:
    """retry_rate of ``op`` under range_seq with pin (KVM 2.6.27); costs do not change it, so it is cached."""
    return retry_rate(Scenario(op=op, scheme="range_seq", refmode="pin"))


def report(costs: Costs = Costs(), pages: int = 16, accesses: int = 1000, tlb_misses: int = 100) -> str:
    """The four cost questions of the notebook, answered under ``costs`` (all ns are assumed)."""
    lines = ["assumed ns (not measurements): " + ", ".join(f"{k}={v:g}" for k, v in asdict(costs).items())]
    fill = fill_cost("pin", "kvm", costs)
    share = refcount_share("pin", "kvm", costs) if sum(fill.values()) else 0.0  # all-zero sliders: no share
    lines.append("C2  one KVM spte fill (pin): " + " + ".join(f"{k} {v:g}" for k, v in fill.items())
                 + f" = {sum(fill.values()):g} ns; the reference is {share:.1%} of it")
    kvm = access_cost("kvm", accesses, tlb_misses, "pin", costs)
    gru = access_cost("gru", accesses, tlb_misses, "off", costs)
    ratio = f"GRU/KVM = {gru / kvm:.1f}x" if kvm else "KVM costs 0 under these assumptions"
    lines.append(f"C1  {accesses} accesses, {tlb_misses} TLB misses: KVM {kvm:,.0f} ns (one software fill, "
                 f"then hardware walks), GRU {gru:,.0f} ns (software refill per miss); {ratio}")
    per_page = notifier_work("rmap", "gru", pages, "gru", costs)
    ranged = notifier_work("zap", "gru", pages, "gru", costs)
    lines.append(f"    {pages} pages on the GRU: one page at a time {per_page['callbacks']} callbacks, "
                 f"{per_page['flushes']} flushes = {per_page['flush ns']:,.0f} ns; as one range "
                 f"{ranged['callbacks']} callbacks, {ranged['flushes']} flush = {ranged['flush ns']:,.0f} ns")
    wasted = sum(v for k, v in fill.items() if k != "install") + costs.atomic_inc  # walk, get_page, put_page
    for op in ("zap", "rmap", "cow"):
        rate = retries(op)
        lines.append(f"    range_seq {op}: the fault retried in {rate['retried']} of {rate['positions']} slider "
                     f"schedules; each retry throws away {wasted:g} ns (walk, get_page, put_page)")
    return "\n".join(lines)
