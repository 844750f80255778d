"""The properties the lab checks: one table of :class:`Invariant` records, and the checks.

Every view (narration, the timeline's titles, the letter grids, the exercises'
answers, the worst-case button's order) reads its words from ``TABLE``; the
checks below are the only place that decides whether a state breaks one.

``use_after_free``
    The guest (or device) uses a page, through its secondary entry, that is
    free or already reused by another owner.  Checked at every access step.
``stale``
    When every thread has finished, a secondary entry maps a page that the
    Linux pte no longer maps.  The guest then reads (and writes) memory the
    process has let go: after COW, the forked parent's page.
``refcount``
    A page's reference count goes below zero, or at the end it differs from
    the references that exist: ptes, pinned sptes, the forked parent's
    mapping, a new owner of a reused page.
``sleep_in_atomic``
    A callback that must sleep (XPMEM's) is called where the caller holds a
    spinlock or rcu_read_lock().
"""
from __future__ import annotations

from typing import NamedTuple

from .kinds import ACCESS
from .model import Model
from .state import FREE, REUSED, System


class Invariant(NamedTuple):
    """One property, with every word a view uses for it."""

    name: str        # the identifier (CSV column, ``Exploration.violated`` key)
    letter: str      # one letter for grids: U, S, R, A
    words: str       # plain words for sentences ("use after free")
    title: str       # the timeline's alarm, in capitals
    checked: str     # when the model checks it


TABLE = (
    Invariant("use_after_free", "U", "use after free", "USE AFTER FREE", "at every guest or device access"),
    Invariant("stale", "S", "stale secondary entry", "STALE ENTRY", "when every thread has finished"),
    Invariant("refcount", "R", "page reference count wrong", "REFCOUNT WRONG",
              "at every step (below zero) and when every thread has finished (the count differs from the "
              "references that exist)"),
    Invariant("sleep_in_atomic", "A", "sleeping callback called in atomic context", "SLEEP IN ATOMIC",
              "at every callback call"),
)

#: The names, in the order every table lists them.
INVARIANTS = tuple(invariant.name for invariant in TABLE)
BY_NAME = {invariant.name: invariant for invariant in TABLE}


def invariant(name: str) -> Invariant:
    """The record of ``name``; a clear error naming the choices otherwise."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown invariant {name!r}; choose from: {', '.join(INVARIANTS)}") from None


# -- the checks -------------------------------------------------------------------

def step_violations(model: Model, before: System, t: int, step, after: System) -> tuple:
    """The invariants broken by running ``step`` of thread ``t`` from ``before`` to ``after``."""
    found = ()
    if step.kind == ACCESS:
        if _used_page_state(model, before, t) in (FREE, REUSED):
            found += ("use_after_free",)
    elif step.calls is not None and step.atomic is not None and model.secondary.sleeps:
        found += ("sleep_in_atomic",)
    for page in after.pages:
        if page.refcount < 0:
            found += ("refcount",)
            break
    return found


def end_violations(model: Model, s: System) -> tuple:
    """The invariants broken in a state where every (non-daemon) thread has finished."""
    found = ()
    if any(spte is not None and spte.pfn != pte for pte, spte in zip(s.ptes, s.sptes)):
        found += ("stale",)
    if any(page.refcount != expected for page, expected in zip(s.pages, expected_references(model, s))):
        found += ("refcount",)
    return found


def expected_references(model: Model, s: System) -> tuple:
    """How many references each page should have, counted from the structures that hold them."""
    counts = list(model.external)
    for index, page in enumerate(s.pages):
        if page.state == REUSED:
            counts[index] = 1                 # the new owner's; everything before is gone
    for pte in s.ptes:
        if pte is not None:
            counts[pte] += 1
    for spte in s.sptes:
        if spte is not None and spte.pinned:
            counts[spte.pfn] += 1
    return tuple(counts)


def _used_page_state(model: Model, s: System, t: int):
    vpage = model.guest_targets[s.threads[t].pc]
    spte = s.sptes[vpage]
    return None if spte is None else s.pages[spte.pfn].state
