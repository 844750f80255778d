"""The properties the lab checks: one table of :class:`Invariant` records, and the checks.

Every view (narration, the timeline's titles, the letter grids, the exercises'
answers, the worst-case button's order) reads its words from ``TABLE``; the
checks below are the only place that decides whether a state breaks one.

``use_after_free``
    The guest (or device) uses a page, through its secondary entry, that is
    free or already reused by another owner.  Checked at every access step.
``stale``
    When every thread has finished, a secondary entry maps a page that no
    longer holds the address's data for the process: the pte maps another
    page, or nothing, or a swap entry whose page has left the swap cache.  (A
    swap entry whose page is still in the swap cache is the same page: the
    next fault maps it again.)
``refcount``
    A page's reference count goes below zero, or at the end it differs from
    the references that exist: present ptes, pinned sptes, the page or swap
    cache, the forked parent's mapping, a new owner of a reused page.
``sleep_in_atomic``
    A step that may sleep (XPMEM's callbacks and its sleeping lock) runs
    while its thread holds the PTL, or inside a callback whose caller is
    atomic (rcu_read_lock(), the anon_vma or i_mmap spinlock).
``reclaim_defeated``
    An outcome, not a memory-safety bug: __remove_mapping's
    page_freeze_refs(page, 2) fails while a secondary entry pins the page, so
    the page stays in the swap cache instead of being freed, and the next
    fault maps the same page again.  That pinning is what mmu notifiers were
    first written to end.  (A failure caused only by a fault's passing
    reference is not counted: reclaim would simply try again later.)
``stale_read``
    The guest or device reads, through its entry, data older than what the
    CPU has stored at that address, after the operation that moved the
    address to another page has returned from all its notifications.
``store_order``
    The device reads an address and gets a value older than a store the CPU
    made *before* a store whose value the device has already seen (the
    message-passing pattern of the store-order example in
    Documentation/vm/mmu_notifier.rst).
"""
from __future__ import annotations

from typing import NamedTuple

from .kinds import ACCESS, RECLAIM
from .messages import shown
from .model import Model
from .state import FREE, IN_USE, REUSED, System, backing, local, mapped


class Invariant(NamedTuple):
    """One property, with every word a view uses for it."""

    name: str        # the identifier (CSV column, ``Exploration.violated`` key)
    letter: str      # one letter for grids: U, S, R, A, D, O, T
    words: str       # plain words for sentences ("use after free")
    title: str       # the timeline's alarm, in capitals
    checked: str     # when the model checks it
    goal: str        # a scheduler level's goal; {user} and {entry} name the secondary's
    outcome: bool = False   # an outcome to notice (a cost), not a memory-safety or coherence bug


TABLE = (
    Invariant("use_after_free", "U", "use after free", "USE AFTER FREE", "at every guest or device access",
              "make {user} touch a freed page"),
    Invariant("stale", "S", "stale secondary entry", "STALE ENTRY", "when every thread has finished",
              "finish every thread with the {entry} still mapping a page the pte no longer maps"),
    Invariant("refcount", "R", "page reference count wrong", "REFCOUNT WRONG",
              "at every step (below zero) and when every thread has finished (the count differs from the "
              "references that exist)", "make a page's reference count wrong"),
    Invariant("sleep_in_atomic", "A", "sleeping callback called in atomic context", "SLEEP IN ATOMIC",
              "at every step that may sleep, and at every callback of a driver whose callbacks sleep",
              "make the notifier call a sleeping callback where it cannot sleep"),
    Invariant("reclaim_defeated", "D", "reclaim defeated by a secondary's pin", "RECLAIM DEFEATED",
              "when reclaim tries to free the page",
              "make reclaim give the page back because the {entry} pins it", outcome=True),
    Invariant("stale_read", "O", "old data read through the secondary", "OLD DATA READ",
              "at every read through a secondary entry",
              "make {user} read old data after the copy-on-write has returned"),
    Invariant("store_order", "T", "store order broken (a newer value seen before an older one)",
              "STORE ORDER BROKEN", "at every read through a secondary entry",
              "make the device see B's new value, then A's old one"),
)

#: The names, in the order every table lists them.
INVARIANTS = tuple(invariant.name for invariant in TABLE)
BY_NAME = {invariant.name: invariant for invariant in TABLE}


def invariant(name: str) -> Invariant:
    """The record of ``name``; a clear error naming the choices otherwise."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown invariant {shown(name)}; choose from: {', '.join(INVARIANTS)}") from None


# -- at every step ------------------------------------------------------------------

def step_violations(model: Model, before: System, t: int, step, after: System) -> tuple:
    """The invariants broken by running ``step`` of thread ``t`` from ``before`` to ``after``."""
    found = ()
    if step.kind == ACCESS:
        found = _access_violations(model, before, t)
    elif step.kind == RECLAIM and _kept_by_a_pin(model, before, after):
        found = ("reclaim_defeated",)
    if _sleeps_in_atomic(model, before, t, step):
        found += ("sleep_in_atomic",)
    for page in after.pages:
        if page.refcount < 0:
            found += ("refcount",)
            break
    return found


def _sleeps_in_atomic(model: Model, before: System, t: int, step) -> bool:
    """A step that may sleep under the PTL or an atomic caller; or any call of a sleeping driver's callback there."""
    atomic = step.atomic is not None or before.ptl == t
    if step.may_sleep and atomic:
        return True
    return step.calls is not None and step.atomic is not None and model.secondary.sleeps


def _access_violations(model: Model, s: System, t: int) -> tuple:
    """What the access thread ``t`` is about to make breaks: judged on the page its entry maps."""
    vpage = model.guest_targets[s.threads[t].pc]
    spte = s.sptes[vpage]
    if spte is None:
        return ()          # a miss: the fault path fills the entry (the IOMMU's walk reads the pte itself)
    page = s.pages[spte.pfn]
    if page.state in (FREE, REUSED):
        return ("use_after_free",)
    found = ()
    current = backing(s, vpage)
    if (current is not None and s.pages[current].value > page.value
            and s.threads[model.owners[vpage]].pc >= len(model.programs[model.owners[vpage]])):
        found += ("stale_read",)
    stored = s.stores[vpage] if s.stores else 0
    if stored and stored <= local(s, t, "seen", 0) and page.value < stored:
        found += ("store_order",)
    return found


# -- when every thread has finished ---------------------------------------------------

def end_violations(model: Model, s: System) -> tuple:
    """The invariants broken (or outcomes reached) in a state where every (non-daemon) thread has finished."""
    found = ()
    if any(spte is not None and spte.pfn != backing(s, vpage) for vpage, spte in enumerate(s.sptes)):
        found += ("stale",)
    if any(page.refcount != expected for page, expected in zip(s.pages, expected_references(model, s))):
        found += ("refcount",)
    return found


def _kept_by_a_pin(model: Model, before: System, after: System) -> bool:
    """The reclaim step left a page it tried to free in memory while a secondary entry pinned it."""
    return any(before.pages[pfn] != after.pages[pfn] and after.pages[pfn].state == IN_USE and _pinned(before, pfn)
               for pfn in model.reclaimed)


def _pinned(s: System, pfn: int) -> bool:
    return any(spte is not None and spte.pinned and spte.pfn == pfn for spte in s.sptes)


def expected_references(model: Model, s: System) -> tuple:
    """How many references each page should have, counted from the structures that hold them."""
    counts = list(model.external)
    for index, page in enumerate(s.pages):
        if page.state == REUSED:
            counts[index] = 1                 # the new owner's; everything before is gone
        elif page.cached:                     # (a freed page still marked cached lost the cache's reference)
            counts[index] += 1                # the page cache's or the swap cache's
    for pte in s.ptes:
        pfn = mapped(pte)
        if pfn is not None:
            counts[pfn] += 1
    for spte in s.sptes:
        if spte is not None and spte.pinned:
            counts[spte.pfn] += 1
    return tuple(counts)
