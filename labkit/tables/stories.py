"""Small tables that put configurations side by side, for the notebooks and the CLI.

Each function runs the model (``simulate``, ``explore``) and only arranges
what it returns: a notebook cell can print one of these and let nbval check
that the claim still holds.
"""
from __future__ import annotations

from functools import lru_cache

from ..core.invariants import INVARIANTS, invariant
from ..scenario import Scenario, build
from ..search.explore import explore
from ..search.schedules import interleave, operation_threads, vm_length
from ..search.trace import simulate
from .narrate import status

#: The grids' mark for "some invariant unknown: the search stopped at its budget first".
UNKNOWN = "?"


def letters(broken, unknown=()) -> str:
    """One letter per broken invariant (U, S, R, A), then ``?`` if some are ``unknown``; ``.`` when none broke."""
    return "".join(invariant(name).letter for name in broken) + (UNKNOWN if unknown else "") or "."


def scenarios(configurations, **fixed) -> list:
    """Accept Scenarios or dicts of Scenario fields (``fixed`` fills in the rest)."""
    result = []
    for item in configurations:
        result.append(item if isinstance(item, Scenario) else Scenario(**{**fixed, **item}))
    return result


def same_story(configurations, read_after: int = 0, install_after=None, guest_after=None, **fixed):
    """Run the same story (fault reads after ``read_after`` VM steps, installs after ``install_after``) everywhere.

    ``install_after=None`` means after the whole VM operation: the window the
    2008 thread argued about.  The guest accesses at the install unless
    ``guest_after`` says otherwise.  One row per configuration: what broke and
    the status line at the first violation (or at the end); munmap rows also
    say when the gathered pages were freed (``release``).
    """
    import pandas as pd

    rows = []
    for scenario in scenarios(configurations, **fixed):
        install = vm_length(scenario) if install_after is None else min(install_after, vm_length(scenario))
        trace = simulate(scenario, interleave(scenario, min(read_after, install), install, guest_after))
        broken = trace.violated()
        where = trace.first_violation(broken[0]) if broken else len(trace.moves)
        row = {"configuration": scenario.label()}
        if scenario.op == "zap":
            row["release"] = scenario.release
        row.update({"broken": ", ".join(broken) or "nothing", "what happens": status(trace, where)})
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_table(configurations, columns=(), **fixed):
    """Exhaustive verdicts: for each configuration, which invariants some schedule breaks (and in how many steps).

    ``columns`` names Scenario fields to show beside the configuration
    (``("era",)``, ``("release",)``).  A cell is ``yes (n steps)``, ``no``, or
    ``unknown`` when the search stopped at its budget first.
    """
    import pandas as pd

    rows = []
    for scenario in scenarios(configurations, **fixed):
        result = explore(scenario)
        row = {"configuration": scenario.label()}
        row.update({name: getattr(scenario, name) for name in columns})
        for name in INVARIANTS:
            verdict, steps = result.verdict(name), len(result.shortest[name] or ())
            row[name] = f"yes ({steps} step{'s' if steps != 1 else ''})" if verdict == "yes" else verdict
        row["states"] = result.states
        rows.append(row)
    return pd.DataFrame(rows)


def window_map(scenario: Scenario):
    """Every slider position at once: rows = VM steps before the pte read, columns = before the install.

    A cell lists what that story breaks (U use after free, S stale, R refcount,
    A sleep in atomic) or ``.`` when nothing breaks; blank cells are impossible
    (an install cannot come before its read).
    """
    import pandas as pd

    n = vm_length(scenario)
    grid = {}
    for install in range(n + 1):
        column = {}
        for read in range(n + 1):
            if read > install:
                column[read] = ""
                continue
            broken = simulate(scenario, interleave(scenario, read, install)).violated()
            column[read] = letters(broken)
        grid[install] = column
    table = pd.DataFrame(grid)
    table.index.name = "read after"
    table.columns.name = "install after"
    return table


#: The most states :func:`beyond_placements` lets explore store: every configuration with one vCPU needs
#: fewer (cow2 the most: 83,071 for cow2/range_seq/gup_release/gru@2017, about 3 s here); a larger scenario's
#: search stops there, and the map then names only what that search found.
CROSS_CHECK_STATES = 100_000


@lru_cache(maxsize=256)
def _broken(scenario: Scenario) -> tuple:
    """What some schedule of ``scenario`` breaks, within CROSS_CHECK_STATES (cached: a Lab goes back and forth)."""
    return explore(scenario, max_states=CROSS_CHECK_STATES).found("yes")


def beyond_placements(scenario: Scenario, table=None, broken=None) -> str:
    """What ``explore`` finds broken that no cell of the window map breaks, in words ("" when nothing is missing).

    The slider and the window map place two things, the fault's pte read and
    its install (the guest accesses once the fault is done); the VM
    operation's threads run in one fixed order
    (:func:`labkit.search.schedules.vm_order`).  A schedule that needs the
    guest somewhere else, or the COWs and the CPU writer of ``cow2`` in
    another order, has no cell: the map says so instead of letting its
    count read as "nothing else can break".  ``broken``: the invariants some
    schedule breaks, if known already (default: ``explore`` finds them).
    """
    table = window_map(scenario) if table is None else table
    shown = set("".join(cell for column in table.columns for cell in table[column]))
    broken = _broken(scenario) if broken is None else broken
    missing = [name for name in broken if invariant(name).letter not in shown]
    if not missing:
        return ""
    model = build(scenario)
    threads = [model.names[t] for t in operation_threads(model)]
    order = (f"runs {', '.join(threads[:-1])} and {threads[-1]} in one order (each COW up to its page table "
             "update, the CPU's stores, then each COW's end)" if len(threads) > 1 else "")
    names = " and ".join(f"{name} ({invariant(name).letter})" for name in missing)
    places = f"the fault's read and install ({model.secondary.user} goes right after)"
    return (f"no placement breaks {names}, yet some schedule does: the slider places only {places}"
            f"{' and ' + order if order else ''}; worst case loads the shortest schedule that breaks it")
