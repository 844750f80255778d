"""explore: every interleaving of a scenario's threads, breadth first, within a budget of states.

The state graph's nodes are :class:`~labkit.core.state.System` values, its
edges the moves :func:`labkit.core.engine.successors` returns: the same step
functions ``simulate`` runs.  Breadth-first order makes the first schedule
found to break an invariant a *shortest* one; it is rebuilt from parent links
as a list of thread names that ``simulate`` replays to the same violation at
its last step.

Violations are not part of the state: an invariant is about reachability, so
it is recorded on the edge (or, for the end-of-run checks, on the state) where
it first shows, and the search goes on to find the others.

Every search is bounded: each stored state costs memory, and each faulting
vCPU multiplies the state space by about 27, so an unbounded search of a
slightly larger scenario would take gigabytes and kill a Binder kernel.  A
search stops before it would store more than ``max_states`` states (default
:data:`DEFAULT_MAX_STATES`, sized below).  What a stopped search found is still definite —
the schedule exists — but an invariant it did not find broken is *unknown*,
never "safe": :meth:`Exploration.verdict` says ``yes``, ``no`` or ``unknown``.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from ..core.engine import quiescent, successors
from ..core.invariants import INVARIANTS, end_violations, invariant
from ..core.messages import shown
from ..scenario import Scenario, build, checked

#: What one stored state costs, at most: the state itself, its parent link,
#: its place in the queue and the dict's spare room.  ``benchmarks/budget.py``
#: measures 383-476 bytes (peak RSS over states stored) on scenarios grown far
#: past the budget (zap under each caller, rmap, cow2; KVM, the GRU, XPMEM).
STATE_BYTES = 480

#: How many states a search stores unless told otherwise: 500,000 x STATE_BYTES
#: is about 240 MB, so a search fits beside a notebook kernel (~100 MB) in
#: Binder's 1-2 GB, and takes 10-20 s on one core.  The default matrix needs
#: at most 2,216 states per configuration, and 130,434 with two faulting
#: vCPUs; three go past 3,000,000 (``benchmarks/explore.py --scaling``): a
#: search there says *unknown* unless ``max_states`` is raised.
DEFAULT_MAX_STATES = 500_000

#: How many expanded states go by between two ``progress`` calls unless told otherwise.
PROGRESS_EVERY = 50_000


class Cancelled(Exception):
    """Raise it from a ``progress`` callback to stop a search: ``explore`` lets it through unchanged."""


@dataclass(frozen=True)
class Exploration:
    """What an exhaustive search of one scenario found, or a search stopped by its budget established.

    violated:   invariant -> True (some schedule breaks it: definite, even in a
                stopped search) / False (no schedule does: only a complete
                search says so) / None (unknown: the search stopped first).
                :meth:`verdict` says the same in words; use it to print one.
    shortest:   invariant -> the shortest schedule (thread names) breaking it, or None.
    states, transitions, terminal: counts of the search; ``outcomes`` is the
                number of distinct final (ptes, sptes, pages) among terminal states;
                ``deadlocks`` counts terminal states where a thread could not finish.
    complete:   False when ``max_states`` stopped the search; ``message`` then
                says where and how to go further, :meth:`summary` what it established.
    depth:      every schedule of at most ``depth`` steps was searched (a
                complete search: every schedule; ``depth`` is then the
                longest shortest path to a state).
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
    depth: int = 0

    def can_violate(self, name: str) -> Optional[bool]:
        invariant(name)
        return self.violated.get(name)

    def verdict(self, name: str) -> str:
        """``"yes"`` (some schedule breaks ``name``), ``"no"`` (none does) or ``"unknown"``.

        ``unknown`` when the search stopped at its budget before finding a
        violation, or did not look for ``name`` at all: a search that has not
        looked everywhere has proved nothing safe.
        """
        found = self.can_violate(name)
        return "unknown" if found is None else "yes" if found else "no"

    def found(self, answer: str) -> tuple:
        """The invariants searched for whose verdict is ``answer`` (``"yes"``, ``"no"``, ``"unknown"``)."""
        return tuple(name for name in self.invariants if self.verdict(name) == answer)

    def unknown_words(self) -> str:
        """What a stopped search established about the invariants it did not find broken ("" if none)."""
        unknown = self.found("unknown")
        if not unknown:
            return ""
        return (f"unknown: {', '.join(unknown)} (no schedule of up to {self.depth} steps breaks "
                f"{'it' if len(unknown) == 1 else 'them'}; the search stopped at {self.states} states, "
                "before trying every schedule)")

    def verdict_words(self, nothing: str = "nothing") -> str:
        """``use_after_free, stale``; ``nothing`` when a complete search found none; ``...; unknown: ...`` else."""
        broken, unknown = ", ".join(self.found("yes")), self.unknown_words()
        if not unknown:
            return broken or nothing
        return f"{broken}; {unknown}" if broken else unknown

    def summary(self) -> str:
        counts = f" ({self.states} states, {self.transitions} transitions, {self.terminal} terminal)"
        return (f"{self.scenario.label()}: {self.verdict_words('no invariant can be broken')}"
                f"{counts if self.complete else ''}")


def _wanted(invariants) -> tuple:
    """The invariants to look for, in the table's order: one name, or a list, tuple or set of names."""
    if isinstance(invariants, str):
        invariants = (invariants,)
    if not isinstance(invariants, (list, tuple, set, frozenset)):
        raise TypeError(f"invariants={shown(invariants)}: give one name or a list of names from: "
                        f"{', '.join(INVARIANTS)}")
    if not invariants:
        raise ValueError(f"invariants is empty: name at least one of: {', '.join(INVARIANTS)}")
    for name in invariants:
        invariant(name)
    return tuple(name for name in INVARIANTS if name in invariants)


def _budget(max_states) -> int:
    if max_states is None:
        return DEFAULT_MAX_STATES
    if isinstance(max_states, bool) or not isinstance(max_states, int):
        raise TypeError(f"max_states={shown(max_states)}: give a whole number of states, or None for "
                        f"the default {DEFAULT_MAX_STATES}")
    if max_states < 1:
        raise ValueError(f"max_states={max_states}: must be 1 or more (None: the default {DEFAULT_MAX_STATES})")
    return max_states


def _check_progress(progress, progress_every) -> None:
    if progress is not None and not callable(progress):
        raise TypeError(f"progress={shown(progress)}: give a function progress(states, transitions) or None")
    if isinstance(progress_every, bool) or not isinstance(progress_every, int):
        raise TypeError(f"progress_every={shown(progress_every)}: give a whole number of states")
    if progress_every < 1:
        raise ValueError(f"progress_every={progress_every}: must be 1 or more")


def explore(scenario: Scenario, invariants=INVARIANTS, max_states: Optional[int] = None,
            progress: Optional[Callable[[int, int], None]] = None,
            progress_every: int = PROGRESS_EVERY) -> Exploration:
    """Search every schedule of ``scenario`` and report which ``invariants`` can be broken.

    ``invariants`` is one name or a list (tuple, set) of names; the result
    lists them in the table's order.  ``max_states`` is an exact bound on
    the states stored: None means :data:`DEFAULT_MAX_STATES`, a larger number
    raises the bound (there is no unbounded search: memory grows with the
    states stored).  A search that would store one more stops, and its result
    says *unknown* for every invariant it had not found broken.

    ``progress(states, transitions)`` is called after every ``progress_every``
    expanded states (evenly spaced in time), with the states stored and the
    transitions followed so far.  Whatever it raises propagates out of
    ``explore`` unchanged and ends the search: raise :class:`Cancelled` to
    cancel one running in the background.
    """
    checked(scenario, "explore")
    wanted = _wanted(invariants)
    budget = _budget(max_states)
    _check_progress(progress, progress_every)
    started = time.perf_counter()
    model = build(scenario)
    first: dict = {}                     # invariant -> (state, thread) of the edge, or (state, None)
    parent = {model.initial: None}       # state -> the state it was first reached from (see _path)
    queue = deque([model.initial])
    transitions = terminal = deadlocks = expanded = depth = 0
    level_end = 1                        # states stored when the current depth's last state was stored
    outcomes = set()
    complete = True

    while queue and complete:
        state = queue.popleft()
        if expanded == level_end:        # the first state one step deeper: every shallower one is expanded
            depth += 1
            level_end = len(parent)
        expanded += 1
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
            if len(parent) == budget:
                complete = False
                break
            parent[after] = state
            if quiescent(model, after):
                for name in end_violations(model, after):
                    if name in wanted and name not in first:
                        first[name] = (after, None)
            queue.append(after)
        if progress is not None and expanded % progress_every == 0:
            progress(len(parent), transitions)

    shortest = {name: (_path(model, parent, *first[name]) if name in first else None) for name in wanted}
    violated = {name: (name in first) if complete or name in first else None for name in wanted}
    result = Exploration(scenario, violated, shortest, len(parent), transitions, terminal, len(outcomes),
                         deadlocks, time.perf_counter() - started, complete, "", wanted, depth)
    if complete:
        return result
    message = (f"stopped at max_states={budget} before every schedule was tried: raise max_states "
               "(--max-states on the command line) or shrink the scenario to settle what is unknown")
    return replace(result, message=message)


def _path(model, parent, state, last_thread) -> tuple:
    """Thread names from the initial state to ``state`` (then ``last_thread``, if the violation is an edge).

    The parent links keep only the previous state (a thread number per state
    would cost about 60 bytes more each); the thread is found again as the
    first, in thread order, whose move leads there: the move that stored it.
    """
    names = [] if last_thread is None else [model.names[last_thread]]
    while parent[state] is not None:
        previous = parent[state]
        names.append(next(model.names[move.thread] for move in successors(model, previous) if move.after == state))
        state = previous
    return tuple(reversed(names))
