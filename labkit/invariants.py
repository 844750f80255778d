"""The four properties the lab checks, each reported under its own name.

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

from .state import FREE, REUSED, System

INVARIANTS = ("use_after_free", "stale", "refcount", "sleep_in_atomic")


def step_violations(model, before: System, t: int, step, after: System) -> tuple:
    """The invariants broken by running ``step`` of thread ``t`` from ``before`` to ``after``."""
    found = ()
    if step.kind == "access":
        if _used_page_state(model, before, t) in (FREE, REUSED):
            found += ("use_after_free",)
    elif step.calls is not None and step.atomic is not None and model.secondary.sleeps:
        found += ("sleep_in_atomic",)
    for page in after.pages:
        if page.refcount < 0:
            found += ("refcount",)
            break
    return found


def end_violations(model, s: System) -> tuple:
    """The invariants broken in a state where every (non-daemon) thread has finished."""
    found = ()
    if any(spte is not None and spte.pfn != pte for pte, spte in zip(s.ptes, s.sptes)):
        found += ("stale",)
    if any(page.refcount != expected for page, expected in zip(s.pages, expected_references(model, s))):
        found += ("refcount",)
    return found


def expected_references(model, s: System) -> tuple:
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


def _used_page_state(model, s: System, t: int):
    vpage = model.guest_targets[s.threads[t].pc]
    spte = s.sptes[vpage]
    return None if spte is None else s.pages[spte.pfn].state
