"""The worst case: a search of every schedule, run so that the lab never freezes.

``search`` is the one place the lab asks ``labkit.search.explore`` for a
counterexample and decides what the answer means: a violation found is
definite even in a search cut short; nothing found is a proof only if the
search was complete, and *unknown* otherwise.

``Background`` runs one search at a time in a thread.  The search checks,
every few thousand states, whether it is still wanted (the configuration
changed, or cancel was pressed) and stops by raising :class:`Cancelled`
from explore's ``progress`` callback, which explore lets through.  The
search's thread never touches a widget: inside a Jupyter kernel its progress
and its result are handed to the kernel's own event loop, so every widget
changes on the thread that handles the page's messages (traitlets' links are
not safe across threads); elsewhere (tests, scripts) they wait until
``wait()`` applies them.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional

from ..core.checks import whole
from ..core.invariants import INVARIANTS
from ..scenario import Scenario
from ..search.explore import Cancelled, explore

#: The largest search the lab runs by default: about 5 s of searching here, and a bounded amount of memory.
EXPLORE_LIMIT = 300_000
#: How often (in states) a search reports progress and asks whether it is still wanted.
PROGRESS_EVERY = 2_000


@dataclass(frozen=True)
class Outcome:
    """What a search found, and whether its silence proves anything."""

    scenario: Scenario
    invariant: Optional[str]     # the first invariant (in the table's order) some schedule breaks
    schedule: Optional[tuple]    # the shortest schedule breaking it
    states: int
    complete: bool               # False: stopped at the budget, so "nothing found" is unknown
    budget: int

    def words(self) -> str:
        """What the lab says about it, in one sentence."""
        label = self.scenario.label()
        if self.invariant is not None:
            among = (f"out of {self.states} reachable states" if self.complete else
                     f"found among the first {self.states:,} states before the search stopped at its budget")
            return f"worst case: the shortest schedule that breaks {self.invariant} ({len(self.schedule)} steps, {among})"
        if self.complete:
            return (f"no schedule of {label} breaks any invariant: all {self.states:,} reachable states were "
                    "explored; the figure shows the slider's schedule")
        return (f"unknown: the search of {label} stopped at its budget of {self.budget:,} states without "
                "finding a schedule that breaks an invariant; a search cut short proves nothing. "
                "The figure shows the slider's schedule")


def budget(max_states) -> int:
    """The worst case's budget in states: None means :data:`EXPLORE_LIMIT`; otherwise a whole number, 1 or more."""
    if max_states is None:
        return EXPLORE_LIMIT
    return whole("max_states", max_states, 1, None, f" (None: the lab's default, {EXPLORE_LIMIT:,})")


def search(scenario: Scenario, max_states: Optional[int] = EXPLORE_LIMIT, stop: Callable[[], bool] = lambda: False,
           progress: Callable[[int], None] = lambda states: None) -> Outcome:
    """Search ``scenario`` up to ``max_states`` states (None: :data:`EXPLORE_LIMIT`); ``stop()`` true makes it
    raise Cancelled."""
    max_states = budget(max_states)

    def tick(states, transitions):
        if stop():
            raise Cancelled()
        progress(states)

    found = explore(scenario, max_states=max_states, progress=tick, progress_every=PROGRESS_EVERY)
    for name in INVARIANTS:          # the first, in the table's order
        if found.violated.get(name):
            return Outcome(scenario, name, found.shortest[name], found.states, found.complete, max_states)
    return Outcome(scenario, None, None, found.states, found.complete, max_states)


def kernel_loop():
    """The running Jupyter kernel's event loop, or None outside a kernel."""
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return None
    if not Kernel.initialized():
        return None
    return getattr(Kernel.instance(), "io_loop", None)


class Background:
    """One search at a time in a thread; ``cancel()`` makes the running one stop and its results vanish."""

    def __init__(self, lock):
        self.lock = lock
        self.generation = 0
        self.thread: Optional[threading.Thread] = None
        self.pending: list = []          # outside a kernel: what the search handed back, for wait()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def cancel(self) -> None:
        self.generation += 1

    def start(self, work, done, progress, failed) -> None:
        """Run ``work(stop, progress)`` in a thread; then ``done(result)`` or ``failed(exc)``, unless cancelled."""
        self.cancel()
        generation = self.generation

        def stop() -> bool:
            return self.generation != generation

        def run() -> None:
            try:
                result = work(stop, lambda *args: self._call(generation, progress, *args))
            except Cancelled:
                return
            except Exception as exc:  # noqa: BLE001 - reported in the lab's message area, never raised into the page
                self._call(generation, failed, exc)
                return
            self._call(generation, done, result)

        self.thread = threading.Thread(target=run, name="labkit-worst-case", daemon=True)
        self.thread.start()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Wait for the running search, then apply what it handed back (tests and scripts, not callbacks)."""
        if self.thread is not None:
            self.thread.join(timeout)
        while self.pending:
            self.pending.pop(0)()

    def _call(self, generation: int, function, *args) -> None:
        def apply() -> None:
            with self.lock:
                if generation == self.generation:
                    function(*args)
        loop = kernel_loop()
        if loop is not None:
            loop.add_callback(apply)
        else:
            self.pending.append(apply)
