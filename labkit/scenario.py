"""A scenario: one configuration of the lab, validated, and the model built from it.

>>> Scenario(op="zap", scheme="range", refmode="off")

``build(scenario)`` turns it into a :class:`Model`: the threads' linked
programs and the initial :class:`~labkit.state.System`.  Everything else
(``simulate``, ``explore``, the widgets, the CLI) starts from a Model, so the
same step functions drive all of them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

from .fault import REFMODES, fault_program
from .guest import guest_program
from .operations import (CALLERS, ERAS, OPS, RELEASES, cow_program, external_references, initial_pages, rmap_program,
                         zap_program)
from .pages import allocator_steps
from .program import link
from .schemes import SCHEMES
from .secondary import SECONDARIES
from .state import NOBODY, Spte, System, Thread

DEFAULTS = dict(secondary="kvm", era="2.6.27", pages=1, vcpus=1, accesses=1, attempts=2,
                allocator=True, release="before_end", caller="truncate")


def _choice(field: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{field}={value!r} is not valid; choose one of: {', '.join(map(str, choices))}")


def _count(field: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{field}={value!r} is not valid; it must be a whole number from {low} to {high}")


@dataclass(frozen=True)
class Scenario:
    """One configuration: which VM operation, notifier scheme, fault reference mode, driver and era.

    op        ``zap`` (unmap_vmas: munmap, truncate), ``rmap`` (reclaim), ``cow`` (write fault after fork)
    scheme    a registered scheme: ``none``, ``page``, ``page_seq``, ``range``, ``range_block``, ``range_seq``
    refmode   ``off``, ``pin``, ``gup_release``, ``off_under_ptl``
    secondary ``kvm``, ``gru``, ``xpmem``
    era       ``2008-01`` (the proposals in the thread: range callbacks may sleep)
              or ``2.6.27`` (what was merged: every callback under rcu_read_lock)
    pages     virtual pages the operation covers (the fault and guest use page 0 first)
    vcpus     faulting threads (``fault``, ``fault2``, ...)
    accesses  guest accesses
    attempts  fault attempts before it gives up after failed checks
    allocator whether another task may reuse a freed page
    release   zap only: gathered pages freed ``before_end`` or ``after_end`` of the range
    caller    zap only: what reached unmap_vmas.  ``truncate`` (unmap_mapping_range)
              holds no mmap_sem, so a secondary fault may walk the pte at any
              point; ``munmap`` holds mmap_sem for writing, and the fault's walk
              holds it for reading, so only a fault that read the pte before
              munmap began (or after it ended) can race.  The sleeping context of
              the range callbacks follows the era for both (truncate's i_mmap_lock,
              a spinlock until 2011, is not modelled as atomic context).
    """

    op: str
    scheme: str
    refmode: str
    secondary: str = DEFAULTS["secondary"]
    era: str = DEFAULTS["era"]
    pages: int = DEFAULTS["pages"]
    vcpus: int = DEFAULTS["vcpus"]
    accesses: int = DEFAULTS["accesses"]
    attempts: int = DEFAULTS["attempts"]
    allocator: bool = DEFAULTS["allocator"]
    release: str = DEFAULTS["release"]
    caller: str = DEFAULTS["caller"]

    def __post_init__(self):
        _choice("op", self.op, OPS)
        _choice("scheme", self.scheme, tuple(SCHEMES))
        _choice("refmode", self.refmode, REFMODES)
        _choice("secondary", self.secondary, tuple(SECONDARIES))
        _choice("era", self.era, ERAS)
        _choice("release", self.release, RELEASES)
        _choice("caller", self.caller, CALLERS)
        _choice("allocator", self.allocator, (True, False))
        _count("pages", self.pages, 1, 16)
        _count("vcpus", self.vcpus, 1, 3)
        _count("accesses", self.accesses, 0, 4)
        _count("attempts", self.attempts, 1, 4)

    def replace(self, **changes) -> "Scenario":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise ValueError(f"Scenario has no field {sorted(unknown)}; fields: {', '.join(values)}")
        values.update(changes)
        return Scenario(**values)

    def label(self) -> str:
        """``op/scheme/refmode/secondary``, with ``@era`` when the era is not 2.6.27."""
        era = "" if self.era == DEFAULTS["era"] else f"@{self.era}"
        return f"{self.op}/{self.scheme}/{self.refmode}/{self.secondary}{era}"


@dataclass(frozen=True)
class Model:
    """A scenario made runnable: programs per thread and the initial state."""

    scenario: Scenario
    names: tuple          # thread names, in state order
    programs: tuple       # Program per thread
    initial: System
    external: tuple       # per pfn, references held outside the modelled structures
    page_names: tuple     # per pfn: "P", "P1", ..., "N"
    guest_targets: tuple  # guest access i uses virtual page guest_targets[i]
    secondary: object
    scheme: object

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no thread named {name!r}; threads: {', '.join(self.names)}") from None


def fault_names(vcpus: int) -> tuple:
    return ("fault",) + tuple(f"fault{i}" for i in range(2, vcpus + 1))


@lru_cache(maxsize=512)
def build(scenario: Scenario) -> Model:
    """Build the threads and the initial state for ``scenario`` (cached: scenarios are values)."""
    scheme = SCHEMES[scenario.scheme]
    secondary = SECONDARIES[scenario.secondary]
    n = scenario.pages
    vpages = tuple(range(n))
    pfns = tuple(range(n))
    if scenario.op == "zap":
        vm = zap_program(scheme, secondary, vpages, scenario.era, scenario.release, scenario.caller)
    elif scenario.op == "rmap":
        vm = rmap_program(scheme, secondary, vpages, scenario.era, pfns)
    else:
        vm = cow_program(scheme, secondary, 0, scenario.era, old=0, new=n)
    programs = [vm]
    faults = fault_names(scenario.vcpus)
    for i, name in enumerate(faults):
        programs.append(fault_program(name, i % n, scheme, secondary, scenario.refmode, scenario.attempts,
                                      mmap_sem=scenario.op == "zap" and scenario.caller == "munmap"))
    guest, targets = guest_program(secondary, scenario.accesses, n)
    programs.append(guest)
    if scenario.allocator:
        programs.append(link("allocator", allocator_steps(), daemon=True))
    names = tuple(p.name for p in programs)
    pages = initial_pages(scenario.op, n)
    page_names = ("P",) if n == 1 else tuple(f"P{i}" for i in range(n))
    if scenario.op == "cow":
        page_names += ("N",)
    initial = System(
        pages=pages,
        ptes=pfns,
        sptes=(None,) * n,
        ptl=NOBODY,
        mmu_lock=NOBODY,
        counters=tuple(sorted(scheme.counters + secondary.counters)),
        threads=tuple(Thread(0) for _ in programs),
    )
    return Model(scenario, names, tuple(programs), initial, external_references(scenario.op, n),
                 page_names, targets, secondary, scheme)


__all__ = ["Scenario", "Model", "build", "Spte"]
