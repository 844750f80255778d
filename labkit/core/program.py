"""Threads as small programs of atomic steps.

A :class:`Step` is one thing the kernel does atomically with respect to the
other threads: take or drop a lock, read or clear a pte, install or zap an
spte, one get_page or put_page, one counter update.  Its ``run`` is a pure
function ``(System, thread index) -> System``, or ``None`` when the step
cannot run yet (a lock is held, there is no free page to hand out).

Every step is labelled with the kernel function it stands for (``action``)
and the source it was modelled on (``site``).  The engine knows nothing about
page tables or notifiers: it only runs steps, which is what lets a scheme be
plain data (see :mod:`labkit.kernel.schemes`).

Control flow is a label per step plus an optional ``choose`` that picks the
next label from the state after the step (a failed sequence check jumps back
to the start of the fault, for instance).  :func:`link` resolves labels into
indices once, so running a step is a tuple lookup.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from .kinds import KINDS
from .messages import shown
from .state import System

#: Label that ends a thread.
DONE = "done"


@dataclass(frozen=True)
class Step:
    """One atomic step of a thread.

    action:  the kernel function it stands for, as shown in traces
             (``"zap_pte_range: ptep_get_and_clear_full"``).
    run:     pure function ``(System, t) -> System | None`` (None: blocked).
    site:    where in the kernel this was modelled from (file, function, version).
    kind:    what the invariants and the timeline look for, one of the
             constants of :mod:`labkit.core.kinds` (``ACCESS``, ``PTE_CLEAR``,
             ``INSTALL``, ...), or ``OTHER`` ("").
    label:   a name other steps can jump to.
    choose:  optional ``(System after, t) -> label``; None, or no choose, means
             the next step.
    hook:    for every step of a notifier callback, which hook it belongs to
             (``invalidate_page``, ``invalidate_range_start``, ...).
    calls:   on the first step of a callback only: the hook being called.
    atomic:  on every step of a callback: why the caller cannot sleep there
             (``"PTL held"``, ``"rcu_read_lock()"``), or None if it may sleep.
    may_sleep: the step can block in a way only a sleeping context allows
             (XPMEM's callbacks take a sleeping lock and wait for a remote
             answer); the invariants flag it under the PTL or an atomic caller.
    """

    action: str
    run: Callable[[System, int], Optional[System]]
    site: str = ""
    kind: str = ""
    label: Optional[str] = None
    choose: Optional[Callable[[System, int], str]] = None
    hook: Optional[str] = None
    calls: Optional[str] = None
    atomic: Optional[str] = None
    may_sleep: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"step {shown(self.action)}: kind={shown(self.kind)} is not a step kind; "
                             f"choose one of: {', '.join(repr(k) for k in KINDS)}")


@dataclass(frozen=True)
class Call:
    """The context in which a notifier callback is instantiated by a VM operation.

    hook:    ``invalidate_page``, ``invalidate_range_start`` or ``invalidate_range_end``.
    vpages:  the virtual pages the call covers (one for invalidate_page).
    atomic:  why the calling context cannot sleep, or None.
    caller:  the kernel function making the call (for labels).
    """

    hook: str
    vpages: tuple
    atomic: Optional[str]
    caller: str
    secondary: object = None   # labkit.kernel.secondaries.Secondary: names the driver's functions


@dataclass(frozen=True)
class Program:
    """A thread's linked steps.  ``next_pc[i]`` is the default successor of step i."""

    name: str
    steps: tuple
    next_pc: tuple
    choose: tuple             # per step: None or (System, t) -> pc
    daemon: bool = False      # a daemon (the allocator) need not finish for a run to be over
    labels: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.steps)


def link(name: str, steps: list, daemon: bool = False) -> Program:
    """Resolve labels into step indices.  The end of the list, and ``DONE``, end the thread."""
    steps = tuple(steps)
    end = len(steps)
    labels = {DONE: end}
    for index, step in enumerate(steps):
        if step.label is not None:
            if step.label in labels:
                raise ValueError(f"{shown(name)}: label {shown(step.label)} used twice")
            labels[step.label] = index

    def resolve(label: str) -> int:
        try:
            return labels[label]
        except KeyError:
            raise ValueError(f"{shown(name)}: no step is labelled {shown(label)}; "
                             f"labels: {shown(sorted(labels))}") from None

    chooses = []
    for index, step in enumerate(steps):
        if step.choose is None:
            chooses.append(None)
        else:
            chooses.append(_resolving(step.choose, resolve, index + 1))
    return Program(name, steps, tuple(range(1, end + 1)), tuple(chooses), daemon, labels)


def _resolving(choose, resolve, fall_through: int):
    """Wrap a label-returning ``choose``; a None label falls through to the next step."""
    def pick(s: System, t: int) -> int:
        label = choose(s, t)
        return fall_through if label is None else resolve(label)
    return pick

