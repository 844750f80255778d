"""verdicts: the whole matrix of the thread's argument, one exhaustive search per configuration.

One row per op x scheme x refmode x secondary.  Configurations that 2.6.27
never had are kept, with a note saying what the model did with them (a range
callback at rmap's invalidate_page site, a page-only driver on munmap that is
never told), so that nothing disappears from the table silently.  A search
that its budget stopped says ``unknown`` where it had not found a violation
(:meth:`~labkit.search.explore.Exploration.verdict`), never ``no``.
"""
from __future__ import annotations

from dataclasses import fields

from ..core.invariants import INVARIANTS
from ..core.messages import shown
from ..kernel.eras import AFTER_UNLOCK, DEFAULT_ERA, UNDER_PTL, era_named
from ..kernel.fault import REFMODES
from ..kernel.operations import OPS
from ..kernel.schemes import BUILTIN_SCHEMES, SCHEMES, drives, scheme_named
from ..kernel.secondaries import SECONDARIES, THREAD_SECONDARIES, secondary_named
from ..scenario import Scenario
from .explore import Exploration, explore

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
        return ("as posted: Lameter's rmap notifier calls the driver after try_to_unmap walked the rmaps, with the "
                "page lock held and no spinlock, but inside rcu_read_lock()")
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


def _names(field: str, value, choices) -> tuple:
    """One name or a list/tuple of names, each once, in the order given; never empty."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{field}={shown(value)}: give one name or a list of names from: {', '.join(choices)}")
    if not value:
        raise ValueError(f"{field} is empty: name at least one of: {', '.join(choices)}")
    return tuple(dict.fromkeys(value))


def configurations(ops=MATRIX_OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=THREAD_SECONDARIES,
                   **fixed) -> tuple:
    """Every Scenario of the matrix, in a fixed order (ops, then schemes, refmodes, secondaries).

    Each of the four takes one name or a list of names; each name is checked
    by ``Scenario``.  Pairs that cannot exist are left out: a scheme that
    drives only some secondaries (``gru``, ``iotlb``), a secondary that takes
    only some schemes or reference modes (``iommu``).  Choices that leave no
    configuration at all are an error, not an empty table.
    """
    _fixed_fields(fixed)
    ops, schemes = _names("ops", ops, OPS), _names("schemes", schemes, SCHEMES)
    refmodes, secondaries = _names("refmodes", refmodes, REFMODES), _names("secondaries", secondaries, SECONDARIES)
    found = []
    for op in ops:
        for scheme in schemes:
            record = scheme_named(scheme)
            for refmode in refmodes:
                for secondary in secondaries:
                    driver = secondary_named(secondary)
                    if _pairs(record, driver, refmode):
                        found.append(Scenario(op=op, scheme=scheme, refmode=refmode, secondary=secondary, **fixed))
    if not found:
        raise ValueError(f"no configuration: schemes {', '.join(schemes)} with refmodes {', '.join(refmodes)} on "
                         f"secondaries {', '.join(secondaries)} make no pair that can exist (a scheme may drive only "
                         "some secondaries, a secondary take only some schemes or refmodes)")
    return tuple(found)


#: The matrix's axes, by the Scenario field each one varies.
AXES = {"op": "ops", "scheme": "schemes", "refmode": "refmodes", "secondary": "secondaries"}


def _fixed_fields(fixed: dict) -> None:
    """The other Scenario fields, each given once: ``op="zap"`` is the axis ``ops``, said in words."""
    for name in fixed:
        if name in AXES:
            raise ValueError(f"{name}= is one of the matrix's axes: give {AXES[name]}={shown(fixed[name])} "
                             "(one name or a list)")
    known = [f.name for f in fields(Scenario) if f.init and f.name not in AXES]
    unknown = [name for name in fixed if name not in known]
    if unknown:
        raise ValueError(f"{shown(unknown[0])} is not a Scenario field; the fixed fields are: {', '.join(known)} "
                         f"(and the axes {', '.join(AXES.values())})")


def _pairs(scheme, driver, refmode: str) -> bool:
    return drives(scheme, driver) and (not driver.refmodes or refmode in driver.refmodes)


def row(result: Exploration) -> dict:
    """One configuration's row: ``yes``/``no``/``unknown`` per invariant, and the search's counts."""
    scenario = result.scenario
    line = {"op": scenario.op, "scheme": scenario.scheme, "refmode": scenario.refmode,
            "secondary": scenario.secondary}
    line.update({name: result.verdict(name) for name in INVARIANTS})
    line.update(states=result.states, seconds=result.seconds, transitions=result.transitions,
                terminal=result.terminal, outcomes=result.outcomes, complete=result.complete,
                note=kernel_note(scenario.op, scenario.scheme, scenario.era, scenario.secondary))
    return line


def verdicts(ops=MATRIX_OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=THREAD_SECONDARIES,
             max_states=None, progress=None, **fixed):
    """A DataFrame with one :func:`row` per configuration.

    ``fixed`` passes other Scenario fields (era, pages, vcpus, ...) to every
    row; ``max_states`` bounds each search (None: the explorer's default).
    ``progress(done, total, exploration)`` is called after each row.
    """
    import pandas as pd

    scenarios = configurations(ops, schemes, refmodes, secondaries, **fixed)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress={shown(progress)}: give a function progress(done, total, exploration) or None")
    rows = []
    for done, scenario in enumerate(scenarios, start=1):
        result = explore(scenario, max_states=max_states)
        rows.append(row(result))
        if progress is not None:
            progress(done, len(scenarios), result)
    return pd.DataFrame(rows)


def _csv(cells) -> str:
    """One CSV line: every field quoted as CSV needs (a comma, a quote, a line break), "\\n" at the end."""
    import csv
    import io

    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(cells)
    return text.getvalue()


def csv_header() -> str:
    """The CSV's first line: CSV_COLUMNS."""
    return _csv(CSV_COLUMNS)


def csv_line(values: dict) -> str:
    """One line of the CSV the CLI prints: exactly CSV_COLUMNS, seconds with three decimals."""
    return _csv(f"{values[column]:.3f}" if column == "seconds" else values[column] for column in CSV_COLUMNS)


def verdicts_csv(table) -> str:
    """The whole CSV of a :func:`verdicts` table, header first."""
    return csv_header() + "".join(csv_line(values) for values in table.to_dict("records"))
