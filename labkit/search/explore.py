"""explore: every interleaving of a scenario's threads, breadth first.

The state graph's nodes are :class:`~labkit.state.System` values, its edges
the moves :func:`labkit.engine.successors` returns: the same step functions
``simulate`` runs.  Breadth-first order makes the first schedule found to
break an invariant a *shortest* one; it is rebuilt from parent links as a list
of thread names that ``simulate`` replays to the same violation at its last
step.

Violations are not part of the state: an invariant is about reachability, so
it is recorded on the edge (or, for the end-of-run checks, on the state) where
it first shows, and the search goes on to find the others.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..core.engine import quiescent, successors
from ..core.invariants import INVARIANTS, end_violations, invariant
from ..scenario import Scenario, build


@dataclass(frozen=True)
class Exploration:
    """What an exhaustive search of one scenario found.

    violated:   invariant -> True (some schedule breaks it) / False (none does);
                None for invariants not asked about or, when the search was
                cut short, not found before the bound.
    shortest:   invariant -> the shortest schedule (thread names) breaking it, or None.
    states, transitions, terminal: counts of the search; ``outcomes`` is the
                number of distinct final (ptes, sptes, pages) among terminal states;
                ``deadlocks`` counts terminal states where a thread could not finish.
    complete:   False when ``max_states`` stopped the search; ``message`` says so.
    """

    scenario: Scenario
    violated: dict
    shortest: dict
    states: int
    transitions: int
    terminal: int
    outcomes: int
    deadlocks: int
    seconds: float
    complete: bool = True
    message: str = ""
    invariants: tuple = field(default=INVARIANTS)

    def can_violate(self, name: str) -> Optional[bool]:
        _check_names((name,))
        return self.violated.get(name)

    def summary(self) -> str:
        found = [name for name in self.invariants if self.violated.get(name)]
        verdict = ", ".join(found) if found else "no invariant can be broken"
        return (f"{self.scenario.label()}: {verdict} "
                f"({self.states} states, {self.transitions} transitions, {self.terminal} terminal)")


def _check_names(names) -> None:
    for name in names:
        invariant(name)


def explore(scenario: Scenario, invariants=INVARIANTS, max_states: Optional[int] = None,
            progress: Optional[Callable[[int, int], None]] = None, progress_every: int = 50_000) -> Exploration:
    """Search every schedule of ``scenario`` and report which ``invariants`` can be broken.

    ``max_states`` bounds the number of stored states (the result then says it
    is incomplete); ``progress(states, transitions)`` is called every
    ``progress_every`` states.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"explore takes a labkit.Scenario, not {type(scenario).__name__}")
    invariants = tuple(invariants)
    _check_names(invariants)
    if max_states is not None and (isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1):
        raise ValueError(f"max_states={max_states!r}: must be a positive whole number or None")
    started = time.perf_counter()
    model = build(scenario)
    wanted = set(invariants)
    first: dict = {}                     # invariant -> (state, thread) of the edge, or (state, None)
    parent = {model.initial: None}       # state -> (previous state, thread index)
    queue = deque([model.initial])
    transitions = terminal = deadlocks = 0
    outcomes = set()
    complete = True

    while queue:
        state = queue.popleft()
        moves = successors(model, state)
        if not moves:
            terminal += 1
            outcomes.add((state.ptes, state.sptes, state.pages))
            if not quiescent(model, state):
                deadlocks += 1
        for move in moves:
            transitions += 1
            after = move.after
            for name in move.violations:
                if name in wanted and name not in first:
                    first[name] = (state, move.thread)
            if after in parent:
                continue
            parent[after] = (state, move.thread)
            if quiescent(model, after):
                for name in end_violations(model, after):
                    if name in wanted and name not in first:
                        first[name] = (after, None)
            queue.append(after)
        if progress is not None and len(parent) % progress_every < len(moves):
            progress(len(parent), transitions)
        if max_states is not None and len(parent) >= max_states and queue:
            complete = False
            break

    shortest = {name: (_path(model, parent, *first[name]) if name in first else None) for name in invariants}
    violated = {name: (name in first) if complete or name in first else None for name in invariants}
    message = "" if complete else (f"stopped at max_states={max_states} with {len(queue)} states unexplored: "
                                   "verdicts of 'no' are unknown; raise --max-states or shrink the scenario")
    return Exploration(scenario, violated, shortest, len(parent), transitions, terminal, len(outcomes),
                       deadlocks, time.perf_counter() - started, complete, message, invariants)


def _path(model, parent, state, last_thread) -> tuple:
    """Thread names from the initial state to ``state`` (then ``last_thread``, if the violation is an edge)."""
    names = [] if last_thread is None else [model.names[last_thread]]
    link = parent[state]
    while link is not None:
        previous, thread = link
        names.append(model.names[thread])
        link = parent[previous]
    return tuple(reversed(names))
