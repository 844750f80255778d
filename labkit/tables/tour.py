"""Small tables for the first notebooks (00-03): one thread's path, one slider row.

Like :mod:`labkit.compare`, nothing here decides anything: every function runs
``build``, ``simulate`` or ``explore`` and arranges what they return as a
deterministic table that a notebook cell prints and nbval compares.
"""
from __future__ import annotations

from ..core.engine import alone, run
from ..core.invariants import TABLE
from ..core.kinds import INSTALL, PTE_READ
from ..core.state import NOBODY, local
from ..scenario import Scenario, build
from ..search.schedules import interleave, operation_threads, vm_length, vm_steps
from ..search.trace import simulate
from .narrate import page_name, pte_text, spte_text
from .stories import scenarios, window_map


def program(scenario: Scenario, thread: str = "fault"):
    """The steps of one thread (``vm``, ``fault``, ``guest``), in program order, with the kernel site of each."""
    import pandas as pd

    model = build(scenario)
    steps = model.programs[model.index(thread)].steps
    return pd.DataFrame({"action": [s.action for s in steps], "site": [s.site for s in steps]},
                        index=pd.RangeIndex(1, len(steps) + 1, name="step"))


def walk(scenario: Scenario, thread: str = "vm"):
    """Run ``thread`` alone from the initial state: each step with the PTL holder, pte, spte and page P after it."""
    import pandas as pd

    model = build(scenario)
    moves = run(model, alone(model.index(thread)))     # its own branches decide where it ends
    trace = simulate(scenario, [thread] * len(moves))
    rows = []
    for number, move in enumerate(trace.moves, start=1):
        s = move.after
        rows.append({"step": number, "action": move.step.action,
                     "PTL held": "yes" if s.ptl != NOBODY else "",
                     "pte": pte_text(model, s.ptes[0]), model.secondary.entry: spte_text(model, s.sptes[0]),
                     "P refcount": s.pages[0].refcount, "P state": s.pages[0].state})
    return pd.DataFrame(rows).set_index("step")


def reads(scenario: Scenario):
    """Claim C3 as a table: for every slider position of the read, what the fault finds in the pte.

    The fault reads after ``read_after`` VM steps and installs at once; a read
    that finds the PTL held waits, so the table also says after which VM step
    the read really happened.
    """
    import pandas as pd

    model = build(scenario)
    steps = [step for _, step in vm_steps(model)]
    operation = operation_threads(model)
    fault = model.index("fault")
    rows = []
    for read_after in range(vm_length(scenario) + 1):
        trace = simulate(scenario, interleave(scenario, read_after, read_after))
        done, found, installed = 0, None, "none"
        for move in trace.moves:
            if move.thread in operation:
                done += 1
            elif move.thread == fault and move.step.kind == PTE_READ and found is None:
                found = (done, page_name(model, local(move.after, fault, "pfn")))
            elif move.thread == fault and move.step.kind == INSTALL:
                installed = spte_text(model, move.after.sptes[0])
        rows.append({"read after": read_after,
                     "VM step just before the read": steps[found[0] - 1].action if found[0] else "(none yet)",
                     "fault reads pte": found[1], model.secondary.entry + " installed": installed})
    return pd.DataFrame(rows).set_index("read after")


def window_summary(configurations, **fixed):
    """For each configuration, how many of the window map's positions break each invariant."""
    import pandas as pd

    rows = []
    for scenario in scenarios(configurations, **fixed):
        cells = [c for column in window_map(scenario).values.T for c in column if c != ""]
        row = {"configuration": scenario.label(), "positions": len(cells),
               "safe": sum(c == "." for c in cells)}
        for record in TABLE:
            row[record.name] = sum(record.letter in c for c in cells)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["program", "walk", "reads", "window_summary"]
