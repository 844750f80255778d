"""A scenario made runnable: the threads' programs and the state they start from.

``labkit.scenario.build`` makes a :class:`Model`; everything that runs the
model (the engine, ``simulate``, ``explore``, the widgets) takes one.  It sits
here, below the engine, so that every function of the core can say what it
takes.  The scenario, scheme and secondary it carries are defined in higher
layers (``labkit.scenario.Scenario``, ``labkit.kernel.schemes.Scheme``,
``labkit.kernel.secondaries.Secondary``); the protocols below say the little
the core itself reads of them, so the core imports nothing above it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .messages import shown
from .program import Program
from .state import System


class Configuration(Protocol):
    """What the core reads of a scenario: its label, for messages."""

    def label(self) -> str: ...


class Driver(Protocol):
    """What the core reads of a secondary MMU: whether its callbacks must be able to sleep."""

    name: str
    sleeps: bool


class Notifier(Protocol):
    """What the core reads of a notifier scheme: its name."""

    name: str


@dataclass(frozen=True)
class Model:
    """Programs per thread, the initial state, and what the invariants need to judge a state.

    names:          thread names, in the order of ``System.threads``.
    programs:       a :class:`~labkit.core.program.Program` per thread.
    initial:        the state before any step.
    external:       per pfn, references held outside the modelled structures
                    (the forked parent's mapping after fork).
    page_names:     per pfn, how traces name the page (``P``, ``P1``, ``N``).
    guest_targets:  guest access ``i`` uses virtual page ``guest_targets[i]``.
    owners:         per virtual page, the thread whose operation changes its pte
                    (the invariants ask whether it has returned).
    reclaimed:      the pfns reclaim tries to free (empty unless the operation is rmap).
    """

    scenario: Configuration
    names: tuple[str, ...]
    programs: tuple[Program, ...]
    initial: System
    external: tuple[int, ...]
    page_names: tuple[str, ...]
    guest_targets: tuple[int, ...]
    secondary: Driver
    scheme: Notifier
    owners: tuple[int, ...] = ()
    reclaimed: tuple[int, ...] = ()

    def index(self, name: str) -> int:
        """The thread number of ``name`` (``vm``, ``fault``, ``guest``, ...)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no thread named {shown(name)}; threads: {', '.join(self.names)}") from None
