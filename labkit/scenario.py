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

from .core.checks import whole
from .core.messages import shown
from .core.model import Model
from .core.program import link
from .core.state import NOBODY, System, Thread
from .kernel.eras import DEFAULT_ERA, ERAS, Era, era_named
from .kernel.fault import REFMODES, fault_program
from .kernel.guest import guest_program, guest_targets
from .kernel.operations import (
    CALLERS,
    OPS,
    RELEASES,
    cow_program,
    external_references,
    initial_pages,
    initial_ptes,
    rmap_program,
    writer_program,
    writes_mmap_sem,
    zap_program,
)
from .kernel.pages import allocator_steps
from .kernel.schemes import Scheme, drives, scheme_named
from .kernel.secondaries import NO_MMAP_SEM, Secondary, secondary_named

DEFAULTS = dict(secondary="kvm", era=DEFAULT_ERA, pages=1, vcpus=1, accesses=1, attempts=2,
                allocator=True, release="before_end", caller="madv_dontneed")


def _choice(field: str, value, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{field}={shown(value)} is not valid; choose one of: {', '.join(map(str, choices))}")


def _count(scenario, field: str, low: int, high: int) -> None:
    """Check a count field and keep it as an ``int`` (a NumPy integer would print and hash differently)."""
    object.__setattr__(scenario, field, whole(field, getattr(scenario, field), low, high))


@dataclass(frozen=True, repr=False)
class Scenario:
    """One configuration: which VM operation, notifier scheme, fault reference mode, driver and era.

    op        ``zap`` (unmap_vmas: madvise, munmap, truncate), ``rmap`` (reclaim), ``cow`` (write fault
              after fork), ``cow2`` (the documentation's store-order example: two COWs, a CPU writer)
    scheme    a registered scheme: ``none``, ``page``, ``page_seq``, ``range``, ``range_block``, ``range_seq``,
              ``gru`` (the GRU's own), ``iotlb`` and ``end_only`` (an IOMMU's), ``interval`` (5.5)
    refmode   ``off``, ``pin``, ``gup_release``, ``off_under_ptl``
    secondary ``kvm``, ``gru``, ``xpmem``, ``iommu``
    era       one of :data:`labkit.kernel.eras.ERAS`: ``2008-01`` (Lameter's
              postings in the thread, as posted), ``2.6.27`` (what was
              merged), ``2012``, ``2017``
    pages     virtual pages the operation covers (the fault and guest use page 0 first)
    vcpus     faulting threads (``fault``, ``fault2``, ...)
    accesses  guest accesses
    attempts  fault attempts before it gives up after failed checks
    allocator whether another task may reuse a freed page
    release   zap only: gathered pages freed ``before_end`` or ``after_end`` of the range
    caller    zap only: what reached unmap_vmas (:mod:`labkit.kernel.operations`):
              ``madv_dontneed`` (the default: mmap_sem held for reading, the
              vma stays, as a balloon driver does to guest RAM), ``munmap``
              (mmap_sem held for writing) or ``truncate`` (i_mmap_lock, a
              page-cache page freed only after range_end).
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
        driver = secondary_named(self.secondary)
        object.__setattr__(self, "secondary_record", driver)
        if driver.refmodes and self.refmode not in driver.refmodes:
            raise ValueError(f"secondary={self.secondary!r} takes no page references of its own (its IOMMU walks "
                             f"the page table): refmode must be {' or '.join(map(repr, driver.refmodes))}, "
                             f"not {self.refmode!r}")
        object.__setattr__(self, "era_record", era_named(self.era))
        if not drives(scheme, driver):
            if scheme.requires:
                raise ValueError(f"scheme={scheme.name!r} drives only "
                                 f"secondary={' or '.join(map(repr, scheme.requires))}, not {self.secondary!r}")
            raise ValueError(f"secondary={self.secondary!r} is driven by scheme="
                             f"{' or '.join(map(repr, driver.schemes))}, or by a scheme that declares "
                             f"requires=({self.secondary!r},); not {scheme.name!r}")
        _choice("release", self.release, RELEASES)
        _choice("caller", self.caller, CALLERS)
        if not isinstance(self.allocator, bool):
            raise ValueError(f"allocator={shown(self.allocator)} is not valid; choose True or False")
        _count(self, "pages", 1, 16)
        _count(self, "vcpus", 1, 3)
        _count(self, "accesses", 0, 4)
        _count(self, "attempts", 1, 4)

    def replace(self, **changes) -> "Scenario":
        """This scenario with some fields changed; a scheme named again is looked up again."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        unknown = set(changes) - set(values)
        if unknown:
            raise ValueError(f"Scenario has no field {shown(sorted(unknown))}; fields: {', '.join(values)}")
        values["scheme"] = self.scheme_record      # unchanged unless named in changes
        values.update(changes)
        return Scenario(**values)

    def __repr__(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in ("op", "scheme", "refmode")]
        parts += [f"{name}={getattr(self, name)!r}" for name, default in DEFAULTS.items()
                  if getattr(self, name) != default]
        return f"Scenario({', '.join(parts)})"

    def label(self) -> str:
        """``op/scheme/refmode/secondary``, with ``@era`` when the era is not 2.6.27 and the caller of a zap
        when it is not the default (``zap(munmap)/range/off/kvm``)."""
        era = "" if self.era == DEFAULTS["era"] else f"@{self.era}"
        op = f"zap({self.caller})" if self.op == "zap" and self.caller != DEFAULTS["caller"] else self.op
        return f"{op}/{self.scheme}/{self.refmode}/{self.secondary}{era}"


def checked(scenario, taker: str) -> Scenario:
    """``scenario`` itself if it is a Scenario; a TypeError saying what ``taker`` takes otherwise."""
    if not isinstance(scenario, Scenario):
        raise TypeError(f"{taker} takes a labkit.Scenario, not the {type(scenario).__name__} {shown(scenario)}")
    return scenario


def fault_names(vcpus: int) -> tuple:
    return ("fault",) + tuple(f"fault{i}" for i in range(2, vcpus + 1))


@lru_cache(maxsize=512)
def build(scenario: Scenario) -> Model:
    """Build the threads and the initial state for ``scenario`` (cached: scenarios are values)."""
    scheme, secondary, era = scenario.scheme_record, scenario.secondary_record, scenario.era_record
    op, caller = scenario.op, scenario.caller
    n = 2 if op == "cow2" else scenario.pages           # cow2: the two addresses A and B
    vpages = tuple(range(n))
    programs = _operation_programs(scenario, vpages)
    owners = (0, 1) if op == "cow2" else (0,) * n
    locks = secondary.locks_in(era.name)
    # a reader's down_read changes nothing unless someone writes mmap_sem: munmap alone does here
    mmap_sem = locks.mmap_sem if writes_mmap_sem(op, caller) else NO_MMAP_SEM
    for i, name in enumerate(fault_names(scenario.vcpus)):
        programs.append(fault_program(
            name, i % n, scheme, secondary, scenario.refmode, scenario.attempts,
            mmap_sem=mmap_sem, mmap_sem_site=locks.site,
            vma_stays=op == "zap" and caller == "madv_dontneed",
            asks_write=era.name in secondary.asks_write))
    targets = guest_targets(op, scenario.accesses, n)
    programs.append(guest_program(secondary, targets))
    if scenario.allocator:
        programs.append(link("allocator", allocator_steps(), daemon=True))
    pages = initial_pages(op, n, caller)
    initial = System(
        pages=pages,
        ptes=initial_ptes(op, n),
        sptes=(None,) * n,
        ptl=NOBODY,
        mmu_lock=NOBODY,
        counters=tuple(sorted(scheme.counters + secondary.counters)),
        threads=tuple(Thread(0) for _ in programs),
        stores=(0,) * n,
    )
    return Model(scenario, tuple(p.name for p in programs), tuple(programs), initial,
                 external_references(op, pages), _page_names(n, len(pages)), targets, secondary, scheme,
                 owners=owners, reclaimed=vpages if op == "rmap" else ())


def _operation_programs(scenario: Scenario, vpages: tuple) -> list:
    """The VM operation's thread (two COW threads and a CPU writer for cow2)."""
    scheme, secondary, era = scenario.scheme_record, scenario.secondary_record, scenario.era_record
    n = len(vpages)
    if scenario.op == "zap":
        return [zap_program(scheme, secondary, vpages, era, scenario.release, scenario.caller)]
    if scenario.op == "rmap":
        return [rmap_program(scheme, secondary, vpages, era, vpages)]
    if scenario.op == "cow":
        return [cow_program(scheme, secondary, 0, era, old=0, new=n)]
    return [cow_program(scheme, secondary, 0, era, old=0, new=2, name="vm", store=False),
            cow_program(scheme, secondary, 1, era, old=1, new=3, name="vm2", store=False),
            writer_program((0, 1))]


def _page_names(n: int, total: int) -> tuple:
    """``P`` (or ``P0``, ``P1``, ...) for the pages the process maps, ``N`` (``N0``, ...) for pages allocated later."""
    if n == 1:
        return ("P", "N")[:total]
    return tuple(f"P{i}" for i in range(n)) + tuple(f"N{i}" for i in range(total - n))


__all__ = ["Scenario", "Model", "build", "DEFAULTS", "ERAS", "OPS", "REFMODES", "RELEASES", "CALLERS"]
