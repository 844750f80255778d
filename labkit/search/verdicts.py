"""verdicts: the whole matrix of the thread's argument, one exhaustive search per configuration.

One row per op x scheme x refmode x secondary.  Configurations that 2.6.27
never had are kept, with a note saying what the model did with them (a range
callback at rmap's invalidate_page site, a page-only driver on munmap that is
never told), so that nothing disappears from the table silently.
"""
from __future__ import annotations

from ..core.invariants import INVARIANTS
from ..kernel.eras import AFTER_UNLOCK, DEFAULT_ERA, UNDER_PTL, era_named
from ..kernel.fault import REFMODES
from ..kernel.schemes import BUILTIN_SCHEMES, scheme_named
from ..kernel.secondaries import THREAD_SECONDARIES, secondary_named
from ..scenario import Scenario
from .explore import explore

#: The operations of the 2008 thread: the matrix's rows (``cow2``, the documentation's example, is asked for by name).
MATRIX_OPS = ("zap", "rmap", "cow")
#: The columns of 2.6.27's matrix first, in their old order; later invariants after them.
FIRST_INVARIANTS = ("use_after_free", "stale", "refcount", "sleep_in_atomic")
CSV_COLUMNS = ("op", "scheme", "refmode", "secondary", *FIRST_INVARIANTS, "states", "seconds",
               *(name for name in INVARIANTS if name not in FIRST_INVARIANTS))


def kernel_note(op: str, scheme_name: str, era: str = DEFAULT_ERA, secondary: str = "kvm") -> str:
    """What the kernel of ``era`` does with this op and scheme, when it is not a straightforward call."""
    scheme, era, driver = scheme_named(scheme_name), era_named(era), secondary_named(secondary)
    if not scheme.hooks():
        return "no notifier: the secondary MMU is never told"
    ranges = era.has_invalidate_range and bool(scheme.invalidate_range)
    if scheme.invalidate_range and not era.has_invalidate_range and not (scheme.has_range or scheme.invalidate_page):
        return "invalidate_range exists from 3.19: this driver is never told in this era"
    if op == "zap":
        return "" if scheme.has_range or ranges else \
            "unmap_vmas calls only the range hooks: this driver is never told about the unmap"
    if op == "rmap" and era.rmap_notifier and driver.sleeps:
        return ("proposed: Lameter's rmap notifier calls the driver after try_to_unmap walked the rmaps, with the "
                "page lock held and no spinlock")
    site = _page_site(op, era)
    if site is None:     # range_start/end bracket the unmap
        return "" if scheme.has_range or ranges else \
            f"{era.name} brackets {op} with range_start/end: a driver with only invalidate_page is never told"
    if not scheme.invalidate_page and scheme.has_range:
        return f"hypothetical: {era.name} calls invalidate_page here ({site}); the range hooks are called at its site"
    return ""


def _page_site(op: str, era) -> str | None:
    """Where ``era`` calls invalidate_page for a per-page unmap, in words; None where it brackets instead."""
    hooks = era.rmap_hooks if op == "rmap" else era.cow_hooks
    return {UNDER_PTL: "under the PTL", AFTER_UNLOCK: "after the PTL is dropped"}.get(hooks)


def configurations(ops=MATRIX_OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=THREAD_SECONDARIES,
                   **fixed):
    """Every Scenario of the matrix, in a fixed order (ops, then schemes, refmodes, secondaries).

    Pairs that cannot exist are left out: a scheme that drives only some
    secondaries (``gru``, ``iotlb``), a secondary that takes only some
    schemes or reference modes (``iommu``).
    """
    for op in ops:
        for scheme in schemes:
            record = scheme_named(scheme)
            for refmode in refmodes:
                for secondary in secondaries:
                    driver = secondary_named(secondary)
                    if _pairs(record, driver, refmode):
                        yield Scenario(op=op, scheme=scheme, refmode=refmode, secondary=secondary, **fixed)


def _pairs(scheme, driver, refmode: str) -> bool:
    return ((not scheme.requires or driver.name in scheme.requires)
            and (not driver.schemes or scheme.name in driver.schemes)
            and (not driver.refmodes or refmode in driver.refmodes))


def verdicts(ops=MATRIX_OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=THREAD_SECONDARIES,
             max_states=None, progress=None, **fixed):
    """A DataFrame with one row per configuration: ``yes``/``no`` per invariant, and the search's counts.

    ``fixed`` passes other Scenario fields (era, pages, vcpus, ...) to every row.
    ``progress(done, total, exploration)`` is called after each row.
    """
    import pandas as pd

    scenarios = list(configurations(ops, schemes, refmodes, secondaries, **fixed))
    rows = []
    for done, scenario in enumerate(scenarios, start=1):
        result = explore(scenario, max_states=max_states)
        row = {"op": scenario.op, "scheme": scenario.scheme, "refmode": scenario.refmode,
               "secondary": scenario.secondary}
        for name in INVARIANTS:
            verdict = result.violated[name]
            row[name] = "unknown" if verdict is None else ("yes" if verdict else "no")
        row.update(states=result.states, seconds=result.seconds, transitions=result.transitions,
                   terminal=result.terminal, outcomes=result.outcomes, complete=result.complete,
                   note=kernel_note(scenario.op, scenario.scheme, scenario.era, scenario.secondary))
        rows.append(row)
        if progress is not None:
            progress(done, len(scenarios), result)
    return pd.DataFrame(rows)


def verdicts_csv(table) -> str:
    """The CSV the CLI prints: exactly CSV_COLUMNS, seconds with three decimals."""
    lines = [",".join(CSV_COLUMNS)]
    for row in table.itertuples(index=False):
        values = []
        for column in CSV_COLUMNS:
            value = getattr(row, column)
            values.append(f"{value:.3f}" if column == "seconds" else str(value))
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"
