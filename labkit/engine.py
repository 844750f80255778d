"""Running steps: the only place a thread's program counter moves.

``advance`` runs one thread's next step and returns the new state and the
invariants that step broke; ``successors`` does it for every thread that can
run.  ``simulate`` (a chosen schedule), ``explore`` (every schedule) and the
widgets (one click at a time) all go through here.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .invariants import end_violations, step_violations
from .state import System


class Move(NamedTuple):
    thread: int
    step: object            # the Step that ran
    after: System
    violations: tuple       # invariant names broken by this step


def is_done(model, s: System, t: int) -> bool:
    return s.threads[t].pc >= len(model.programs[t])


def next_step(model, s: System, t: int):
    """The step thread ``t`` would run next, or None if it has finished."""
    program = model.programs[t]
    pc = s.threads[t].pc
    return None if pc >= len(program) else program.steps[pc]


def advance(model, s: System, t: int) -> Optional[Move]:
    """Run thread ``t``'s next step; None if it has finished or is blocked."""
    program = model.programs[t]
    pc = s.threads[t].pc
    if pc >= len(program.steps):
        return None
    step = program.steps[pc]
    after = step.run(s, t)
    if after is None:
        return None
    choose = program.choose[pc]
    next_pc = choose(after, t) if choose is not None else program.next_pc[pc]
    threads = after.threads
    after = after._replace(threads=threads[:t] + (threads[t]._replace(pc=next_pc),) + threads[t + 1:])
    return Move(t, step, after, step_violations(model, s, t, step, after))


def successors(model, s: System) -> list:
    """Every move some thread can make from ``s``, in thread order (deterministic)."""
    moves = []
    for t in range(len(model.programs)):
        move = advance(model, s, t)
        if move is not None:
            moves.append(move)
    return moves


def quiescent(model, s: System) -> bool:
    """Every thread that must finish has finished (the allocator never has to)."""
    return all(s.threads[t].pc >= len(p.steps) for t, p in enumerate(model.programs) if not p.daemon)


def final_violations(model, s: System) -> tuple:
    return end_violations(model, s) if quiescent(model, s) else ()
