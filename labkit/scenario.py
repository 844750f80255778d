"""A scenario: one configuration of the lab, validated, and the model built from it.

>>> Scenario(op="zap", scheme="range", refmode="off")
Scenario(op='zap', scheme='range', refmode='off')

A Scenario is a value.  It names its scheme, secondary and era, and resolves
those names when it is made to the records themselves (``scheme_record``,
``secondary_record``, ``era_record``), which take part in equality: two equal
Scenarios build the same model, and after ``register_scheme(...,
replace=True)`` a new Scenario can never be served the old scheme's model
from the cache.  ``build(scenario)`` turns it into a
:class:`~labkit.core.model.Model`: the threads' linked programs and the
initial :class:`~labkit.core.state.System`.  Everything else (``simulate``,
``explore``, the widgets, the CLI) starts from a Model, so the same step
functions drive all of them.  Its ``repr`` names only the fields that differ
from the defaults, so it can be pasted into a cell.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache

from .core.model import Model
from .core.program import link
from .core.state import NOBODY, System, Thread
from .kernel.eras import DEFAULT_ERA, ERAS, Era, era_named
from .kernel.fault import REFMODES, fault_program
from .kernel.guest import guest_program
from .kernel.operations import (
    CALLERS,
    OPS,
    RELEASES,
    cow_program,
    external_references,
    initial_pages,
    rmap_program,
    zap_program,
)
from .kernel.pages import allocator_steps
from .kernel.schemes import Scheme, scheme_named
from .kernel.secondaries import Secondary, secondary_named

DEFAULTS = dict(secondary="kvm", era=DEFAULT_ERA, pages=1, vcpus=1, accesses=1, attempts=2,
                allocator=True, release="before_end", caller="truncate")


def _choice(field: str, value, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{field}={value!r} is not valid; choose one of: {', '.join(map(str, choices))}")


def _count(field: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{field}={value!r} is not valid; it must be a whole number from {low} to {high}")


@dataclass(frozen=True, repr=False)
class Scenario:
    """One configuration: which VM operation, notifier scheme, fault reference mode, driver and era.

    op        ``zap`` (unmap_vmas: munmap, truncate), ``rmap`` (reclaim), ``cow`` (write fault after fork)
    scheme    a registered scheme: ``none``, ``page``, ``page_seq``, ``range``, ``range_block``, ``range_seq``
    refmode   ``off``, ``pin``, ``gup_release``, ``off_under_ptl``
    secondary ``kvm``, ``gru``, ``xpmem``
    era       one of :data:`labkit.kernel.eras.ERAS`: ``2008-01`` (the proposals
              in the thread), ``2.6.27`` (what was merged), ``2012``, ``2017``
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
    scheme_record: Scheme = field(init=False, compare=True)
    secondary_record: Secondary = field(init=False, compare=True)
    era_record: Era = field(init=False, compare=True)

    def __post_init__(self):
        _choice("op", self.op, OPS)
        scheme = scheme_named(self.scheme)
        object.__setattr__(self, "scheme", scheme.name)
        object.__setattr__(self, "scheme_record", scheme)
        _choice("refmode", self.refmode, REFMODES)
        object.__setattr__(self, "secondary_record", secondary_named(self.secondary))
        object.__setattr__(self, "era_record", era_named(self.era))
        if scheme.requires and self.secondary not in scheme.requires:
            raise ValueError(f"scheme={scheme.name!r} drives only secondary={' or '.join(map(repr, scheme.requires))}, "
                             f"not {self.secondary!r}")
        _choice("release", self.release, RELEASES)
        _choice("caller", self.caller, CALLERS)
        if not isinstance(self.allocator, bool):
            raise ValueError(f"allocator={self.allocator!r} is not valid; choose True or False")
        _count("pages", self.pages, 1, 16)
        _count("vcpus", self.vcpus, 1, 3)
        _count("accesses", self.accesses, 0, 4)
        _count("attempts", self.attempts, 1, 4)

    def replace(self, **changes) -> "Scenario":
        """This scenario with some fields changed; a scheme named again is looked up again."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        unknown = set(changes) - set(values)
        if unknown:
            raise ValueError(f"Scenario has no field {sorted(unknown)}; fields: {', '.join(values)}")
        values["scheme"] = self.scheme_record      # unchanged unless named in changes
        values.update(changes)
        return Scenario(**values)

    def __repr__(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in ("op", "scheme", "refmode")]
        parts += [f"{name}={getattr(self, name)!r}" for name, default in DEFAULTS.items()
                  if getattr(self, name) != default]
        return f"Scenario({', '.join(parts)})"

    def label(self) -> str:
        """``op/scheme/refmode/secondary``, with ``@era`` when the era is not 2.6.27."""
        era = "" if self.era == DEFAULTS["era"] else f"@{self.era}"
        return f"{self.op}/{self.scheme}/{self.refmode}/{self.secondary}{era}"


def fault_names(vcpus: int) -> tuple:
    return ("fault",) + tuple(f"fault{i}" for i in range(2, vcpus + 1))


@lru_cache(maxsize=512)
def build(scenario: Scenario) -> Model:
    """Build the threads and the initial state for ``scenario`` (cached: scenarios are values)."""
    scheme, secondary, era = scenario.scheme_record, scenario.secondary_record, scenario.era_record
    n = scenario.pages
    vpages = tuple(range(n))
    pfns = tuple(range(n))
    if scenario.op == "zap":
        vm = zap_program(scheme, secondary, vpages, era, scenario.release, scenario.caller)
    elif scenario.op == "rmap":
        vm = rmap_program(scheme, secondary, vpages, era, pfns)
    else:
        vm = cow_program(scheme, secondary, 0, era, old=0, new=n)
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


__all__ = ["Scenario", "Model", "build", "DEFAULTS", "ERAS", "OPS", "REFMODES", "RELEASES", "CALLERS"]
