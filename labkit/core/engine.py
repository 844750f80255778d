"""Running steps: the only place a thread's program counter moves, and the one run loop.

``advance`` runs one thread's next step and returns the new state and the
invariants that step broke; ``successors`` does it for every thread that can
run (the explorer's edges).  ``run`` is the loop every other way of running the
model goes through: a *policy* names, before each step, the threads it would
like to run, best first, and ``run`` takes the first that can.  ``simulate``
(a list of names), the slider's schedules (``labkit.search.schedules``), one
thread walked alone and the in-order run are all policies.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

from .invariants import end_violations, step_violations
from .model import Model
from .program import Step
from .state import System

#: A run longer than this is a bug in a policy or a program (every program here ends).
MAX_STEPS = 10_000


class Move(NamedTuple):
    thread: int
    step: Step              # the Step that ran
    after: System
    violations: tuple       # invariant names broken by this step


#: ``policy(model, state, moves so far) -> threads to try, best first``; nothing runnable ends the run.
Policy = Callable[[Model, System, Sequence[Move]], Sequence[int]]


def is_done(model: Model, s: System, t: int) -> bool:
    return s.threads[t].pc >= len(model.programs[t])


def next_step(model: Model, s: System, t: int) -> Optional[Step]:
    """The step thread ``t`` would run next, or None if it has finished."""
    program = model.programs[t]
    pc = s.threads[t].pc
    return None if pc >= len(program) else program.steps[pc]


def advance(model: Model, s: System, t: int) -> Optional[Move]:
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


def successors(model: Model, s: System) -> list:
    """Every move some thread can make from ``s``, in thread order (deterministic)."""
    moves = []
    for t in range(len(model.programs)):
        move = advance(model, s, t)
        if move is not None:
            moves.append(move)
    return moves


def runnable(model: Model, s: System) -> tuple:
    """The threads that can run a step from ``s``."""
    return tuple(t for t in range(len(model.programs)) if advance(model, s, t) is not None)


def run(model: Model, policy: Policy, state: Optional[System] = None) -> tuple:
    """Run from ``state`` (default: the initial one) the threads ``policy`` picks, until it picks none that can run."""
    state = model.initial if state is None else state
    moves: list = []
    while len(moves) < MAX_STEPS:
        for t in policy(model, state, moves):
            move = advance(model, state, t)
            if move is not None:
                break
        else:
            return tuple(moves)
        moves.append(move)
        state = move.after
    raise RuntimeError(f"{model.scenario.label()}: a run went past {MAX_STEPS} steps; its policy never stops")


# -- policies -----------------------------------------------------------------

def in_order(model: Model, state: System, moves: Sequence[Move]) -> range:
    """Each thread to completion in turn, never going back; a daemon (the allocator) gets one step."""
    if not moves:
        return range(len(model.programs))
    last = moves[-1].thread
    return range(last + 1 if model.programs[last].daemon else last, len(model.programs))


def alone(t: int) -> Policy:
    """Thread ``t`` by itself, until it finishes or blocks."""
    return lambda model, state, moves: (t,)


def named(threads: Sequence[int]) -> Policy:
    """Exactly these threads, in this order (a hand-written schedule); stops at the first that cannot run."""
    return lambda model, state, moves: (threads[len(moves)],) if len(moves) < len(threads) else ()


def quiescent(model: Model, s: System) -> bool:
    """Every thread that must finish has finished (the allocator never has to)."""
    return all(s.threads[t].pc >= len(p.steps) for t, p in enumerate(model.programs) if not p.daemon)


def final_violations(model: Model, s: System) -> tuple:
    return end_violations(model, s) if quiescent(model, s) else ()
