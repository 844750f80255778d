"""A Trace as text to take away: CSV, and a table in the kernel documentation's ``[Time N]`` style.

Documentation/vm/mmu_notifier.rst explains its race with a table of time
slots, one line per CPU or device thread; ``time_table`` writes a trace the
same way, with the shared state under each slot, so a run can be pasted into
an email or read without the figure.
"""
from __future__ import annotations

from .narrate import PAGE_WORDS, events, focus


def trace_csv(trace) -> str:
    """The trace's event table as CSV text (one row per step, the columns of ``narrate.events``)."""
    return events(trace).to_csv(index=False, lineterminator="\n")


def state_line(model, state) -> str:
    """The focus of the figure in words: pte, secondary entry, page state and refcount."""
    pte, spte, refcount, page_state = focus(model, state)
    return (f"pte[0]: {pte}   {model.secondary.entry}[0]: {spte}   "
            f"page {model.page_names[0]}: {PAGE_WORDS[page_state]}, refcount {refcount}")


def time_table(trace, width: int = 78) -> str:
    """One ``[Time N]`` block per step, one line per thread (``{}`` for threads that did not run)."""
    model = trace.model
    pad = max(len(name) for name in model.names) + 2
    lines = [f"{model.scenario.label()} (era {model.scenario.era})",
             f"[Time 0] {'-' * (width - 9)}",
             f"{'state':<{pad}}{state_line(model, trace.states[0])}"]
    for number, (name, move, broken) in enumerate(zip(trace.schedule, trace.moves, trace.violations), start=1):
        head = f"[Time {number}] "
        lines.append(head + "-" * max(4, width - len(head)))
        for thread in model.names:
            action = move.step.action if thread == name else ""
            lines.append(f"{thread:<{pad}}{{{action}}}")
        lines.append(f"{'state':<{pad}}{state_line(model, move.after)}")
        if broken:
            lines.append(f"{'BROKEN':<{pad}}{', '.join(broken)}")
    return "\n".join(lines) + "\n"


__all__ = ["trace_csv", "time_table", "state_line"]
