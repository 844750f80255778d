"""simulate: run one schedule and keep every state, as a Trace.

A schedule is a list of thread names; each name runs that thread's next
atomic step.  ``"in_order"`` runs each thread to completion in turn.  The
trace keeps every intermediate state (so the timeline can scrub back and
forth); :mod:`labkit.tables.narrate` tells it in words and as a table.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.engine import final_violations, in_order, is_done, named, next_step, quiescent, run, runnable
from ..core.messages import shown
from ..core.model import Model
from ..scenario import Scenario, build, checked


def parse_schedule(schedule) -> tuple:
    """Accept ``"vm,fault,guest"``, ``["vm", "fault"]`` or ``"in_order"``; refuse anything else at the door.

    A string is what a person typed: it must name at least one thread, and no
    name between its commas may be empty (``"vm,,fault"`` is a typo, not a
    schedule).  A list or tuple is what a program built: it may be empty (the
    scheduler's "nothing has run yet").  Sets and dicts have no order to run in,
    and iterators are refused too: one that never ends would hang the kernel.
    """
    if isinstance(schedule, str):
        if schedule.strip() == "in_order":
            return ("in_order",)
        names = tuple(name.strip() for name in schedule.split(","))
        if not any(names):
            raise ValueError("the schedule is empty: give thread names separated by commas, or 'in_order'")
        if not all(names):
            raise ValueError(f"name {names.index('') + 1} of the schedule {shown(schedule)} is empty "
                             "(two commas in a row, or one at an end)")
        return names
    if isinstance(schedule, (set, frozenset, dict)):
        raise ValueError(f"a schedule is an ordered list of thread names, not a {type(schedule).__name__}")
    if not isinstance(schedule, (list, tuple)):
        raise ValueError(f"a schedule is a list of thread names or 'in_order'; a {type(schedule).__name__} is neither")
    for name in schedule:
        if not isinstance(name, str):
            raise ValueError(f"a schedule is a list of thread names; {shown(name)} is not a name")
    return tuple(schedule)


@dataclass(frozen=True)
class Trace:
    """One run: the scenario, the schedule, every state and every move."""

    model: Model
    schedule: tuple      # thread names, one per step that ran
    states: tuple        # len(schedule) + 1 states; states[0] is the initial one
    moves: tuple         # engine.Move per step
    violations: tuple    # per step: invariant names broken at that step (end checks on the last)

    @property
    def scenario(self) -> Scenario:
        return self.model.scenario

    @property
    def final(self):
        return self.states[-1]

    @property
    def finished(self) -> bool:
        return quiescent(self.model, self.final)

    def violated(self) -> tuple:
        """Every invariant this run broke, in the order first broken."""
        seen = []
        for names in self.violations:
            seen += [name for name in names if name not in seen]
        return tuple(seen)

    def first_violation(self, name: str):
        """1-based step at which ``name`` was first broken, or None."""
        for index, names in enumerate(self.violations, start=1):
            if name in names:
                return index
        return None


def _runnable(model: Model, state) -> str:
    names = [model.names[t] for t in runnable(model, state)]
    return ", ".join(names) if names else "none"


def _refusal(model: Model, names: tuple, state, number: int) -> str:
    """Why step ``number`` of a hand-written schedule cannot run: finished or blocked, and who could."""
    name = names[number - 1]
    t = model.index(name)
    if is_done(model, state, t):
        return f"step {number}: thread {shown(name)} has finished; runnable: {_runnable(model, state)}"
    return (f"step {number}: thread {shown(name)} is blocked at {shown(next_step(model, state, t).action)}; "
            f"runnable: {_runnable(model, state)}")


def simulate(scenario: Scenario, schedule="in_order") -> Trace:
    """Run ``schedule`` on ``scenario`` and return the Trace.

    A name whose thread is blocked or finished raises ValueError naming the
    threads that could run instead, so a hand-written schedule fails clearly.
    """
    model = build(checked(scenario, "simulate"))
    names = parse_schedule(schedule)
    if names == ("in_order",):
        moves = run(model, in_order)
        names = tuple(model.names[move.thread] for move in moves)
    else:
        moves = run(model, named(tuple(model.index(name) for name in names)))
        if len(moves) < len(names):
            state = moves[-1].after if moves else model.initial
            raise ValueError(_refusal(model, names, state, len(moves) + 1))
    return trace_of(model, names, moves)


def trace_of(model: Model, names: tuple, moves: tuple) -> Trace:
    """The Trace of ``moves`` (made by ``run``), with the end-of-run checks on its last step."""
    states = (model.initial,) + tuple(move.after for move in moves)
    violations = [move.violations for move in moves]
    if violations:
        end = final_violations(model, states[-1])
        violations[-1] = violations[-1] + tuple(v for v in end if v not in violations[-1])
    return Trace(model, tuple(names), states, tuple(moves), tuple(violations))


def in_order_schedule(model: Model) -> tuple:
    """Each thread to completion in turn; the allocator last, if it has anything to take."""
    return tuple(model.names[move.thread] for move in run(model, in_order))
