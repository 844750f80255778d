"""simulate: run one schedule and keep every state, as a Trace.

A schedule is a list of thread names; each name runs that thread's next
atomic step.  ``"in_order"`` runs each thread to completion in turn.  The
trace keeps every intermediate state (so the timeline can scrub back and
forth) and presents the run as a pandas table, one row per step.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .engine import advance, final_violations, is_done, next_step, quiescent
from .scenario import Scenario, build


def parse_schedule(schedule) -> tuple:
    """Accept ``"vm,fault,guest"``, ``["vm", "fault"]`` or ``"in_order"``."""
    if isinstance(schedule, str):
        if schedule == "in_order":
            return ("in_order",)
        return tuple(name.strip() for name in schedule.split(",") if name.strip())
    try:
        names = tuple(schedule)
    except TypeError:
        raise ValueError(f"a schedule is a list of thread names or 'in_order', not {schedule!r}") from None
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"a schedule is a list of thread names; {name!r} is not a name")
    return names


@dataclass(frozen=True)
class Trace:
    """One run: the scenario, the schedule, every state and every move."""

    model: object
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

    @cached_property
    def events(self):
        from .narrate import events_table
        return events_table(self)

    def status(self, step: int) -> str:
        from .narrate import status
        return status(self, step)


def _thread_index(model, name: str, state, step_number: int) -> int:
    t = model.index(name)
    if is_done(model, state, t):
        raise ValueError(f"step {step_number}: thread {name!r} has finished; runnable: {_runnable(model, state)}")
    return t


def _runnable(model, state) -> str:
    names = [model.names[t] for t in range(len(model.names)) if advance(model, state, t) is not None]
    return ", ".join(names) if names else "none"


def simulate(scenario: Scenario, schedule="in_order") -> Trace:
    """Run ``schedule`` on ``scenario`` and return the Trace.

    A name whose thread is blocked or finished raises ValueError naming the
    threads that could run instead, so a hand-written schedule fails clearly.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"simulate takes a labkit.Scenario, not {type(scenario).__name__}")
    model = build(scenario)
    names = parse_schedule(schedule)
    if names == ("in_order",):
        names = in_order_schedule(model)
    state = model.initial
    states, moves, violations = [state], [], []
    for number, name in enumerate(names, start=1):
        t = _thread_index(model, name, state, number)
        move = advance(model, state, t)
        if move is None:
            step = next_step(model, state, t)
            raise ValueError(f"step {number}: thread {name!r} is blocked at {step.action!r}; "
                             f"runnable: {_runnable(model, state)}")
        state = move.after
        states.append(state)
        moves.append(move)
        violations.append(move.violations)
    if violations:
        end = final_violations(model, state)
        violations[-1] = violations[-1] + tuple(v for v in end if v not in violations[-1])
    return Trace(model, tuple(names), tuple(states), tuple(moves), tuple(violations))


def in_order_schedule(model) -> tuple:
    """Each thread to completion in turn; the allocator last, if it has anything to take."""
    state, names = model.initial, []
    for t, program in enumerate(model.programs):
        while True:
            move = advance(model, state, t)
            if move is None:
                break
            state = move.after
            names.append(model.names[t])
            if program.daemon:
                break
    return tuple(names)
