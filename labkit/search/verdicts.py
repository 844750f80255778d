"""verdicts: the whole matrix of the thread's argument, one exhaustive search per configuration.

One row per op x scheme x refmode x secondary.  Configurations that 2.6.27
never had are kept, with a note saying what the model did with them (a range
callback at rmap's invalidate_page site, a page-only driver on munmap that is
never told), so that nothing disappears from the table silently.
"""
from __future__ import annotations

from ..core.invariants import INVARIANTS
from ..kernel.eras import DEFAULT_ERA, era_named
from ..kernel.fault import REFMODES
from ..kernel.operations import OPS
from ..kernel.schemes import BUILTIN_SCHEMES, scheme_named
from ..kernel.secondaries import SECONDARIES
from ..scenario import Scenario
from .explore import explore

CSV_COLUMNS = ("op", "scheme", "refmode", "secondary", *INVARIANTS, "states", "seconds")


def kernel_note(op: str, scheme_name: str, era: str = DEFAULT_ERA) -> str:
    """What the kernel of ``era`` would do with this op and scheme, when it is not a straightforward call."""
    scheme, era = scheme_named(scheme_name), era_named(era)
    if not scheme.hooks():
        return "no notifier: the secondary MMU is never told"
    if op == "zap" and not scheme.has_range:
        return "unmap_vmas calls only the range hooks: this driver is never told about munmap"
    if not era.has_invalidate_page:
        return "" if scheme.has_range else "invalidate_page no longer exists: this driver is never told"
    if op in ("rmap", "cow") and not scheme.invalidate_page:
        return (f"hypothetical: {era.name} calls invalidate_page here; the range hooks are called at its site, "
                "under the PTL")
    return ""


def configurations(ops=OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=tuple(SECONDARIES), **fixed):
    """Every Scenario of the matrix, in a fixed order (ops, then schemes, refmodes, secondaries).

    A scheme that drives only some secondaries (``gru``) is paired with those alone.
    """
    for op in ops:
        for scheme in schemes:
            drives = scheme_named(scheme).requires or secondaries
            for refmode in refmodes:
                for secondary in secondaries:
                    if secondary in drives:      # the gru scheme drives only the GRU
                        yield Scenario(op=op, scheme=scheme, refmode=refmode, secondary=secondary, **fixed)


def verdicts(ops=OPS, schemes=BUILTIN_SCHEMES, refmodes=REFMODES, secondaries=tuple(SECONDARIES),
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
                   note=kernel_note(scenario.op, scenario.scheme, scenario.era))
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
