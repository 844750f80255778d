"""The whole system at one instant, as one immutable, hashable value.

Everything the threads share lives in a :class:`System`: the struct pages, the
Linux ptes, the secondary MMU's entries (sptes), the two locks, the notifier's
counters, and each thread's program counter and local variables.  Because it
is a tuple of tuples, the explorer can store visited states in a set, and
``simulate`` can keep every intermediate state for the timeline.

The helpers below are the only way steps change a state; each returns a new
value and never mutates.  They are plain functions (not methods) because the
explorer calls them millions of times and attribute lookup on a class costs.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

#: Page states.  ``unused`` pages have not been handed out in this run yet
#: (the new page a COW fault will allocate); ``free`` pages went back to the
#: buddy allocator; ``reused`` pages were handed to another owner afterwards.
UNUSED, IN_USE, FREE, REUSED = "unused", "in_use", "free", "reused"

#: No thread holds the lock.
NOBODY = -1


class Page(NamedTuple):
    """A struct page: its reference count (2.6.27's ``page->_count``) and who owns it."""

    refcount: int
    state: str


class Spte(NamedTuple):
    """A secondary MMU entry: the page frame it maps, and whether it holds a page reference.

    ``pinned`` is True when the entry keeps the reference the fault took with
    get_user_pages, as KVM's rmap did until 2009 (rmap_add keeps it,
    rmap_remove drops it with kvm_release_pfn_clean).
    """

    pfn: int
    pinned: bool


class Thread(NamedTuple):
    """A thread's program counter (index of its next step) and its local variables.

    ``local`` is a tuple of ``(name, value)`` pairs kept sorted by name so
    that two equal states are equal tuples.
    """

    pc: int
    local: tuple[tuple[str, object], ...] = ()


class System(NamedTuple):
    """Everything shared between the threads, at one instant."""

    pages: tuple[Page, ...]                  # pfn -> Page
    ptes: tuple[Optional[int], ...]          # virtual page -> pfn or None (the Linux pte)
    sptes: tuple[Optional[Spte], ...]        # virtual page -> Spte or None (spte / GRU TLB entry / XPMEM mapping)
    ptl: int                                 # thread holding the page-table lock, or NOBODY
    mmu_lock: int                            # thread holding the secondary MMU's lock, or NOBODY
    counters: tuple[tuple[str, int], ...]    # (name, value) pairs: mmu_notifier_seq, mmu_notifier_count, ...
    threads: tuple[Thread, ...]              # Thread per thread, in the scenario's thread order
    mmap_sem: int = 0                        # 0 free, -1 held for writing (munmap), n > 0 held for reading by n faults


# -- reading ---------------------------------------------------------------

def local(s: System, t: int, name: str, default=None):
    """Return thread ``t``'s local variable ``name``."""
    for key, value in s.threads[t].local:
        if key == name:
            return value
    return default


def counter(s: System, name: str) -> int:
    """Return the notifier counter ``name`` (for example ``mmu_notifier_seq``)."""
    for key, value in s.counters:
        if key == name:
            return value
    raise KeyError(f"no counter {name!r}; this scheme has {[k for k, _ in s.counters]}")


# -- writing ---------------------------------------------------------------

def _set_pair(pairs: tuple, name: str, value) -> tuple:
    items = dict(pairs)
    items[name] = value
    return tuple(sorted(items.items()))


def with_local(s: System, t: int, **values) -> System:
    """Return ``s`` with thread ``t``'s local variables updated."""
    thread = s.threads[t]
    pairs = thread.local
    for name, value in values.items():
        pairs = _set_pair(pairs, name, value)
    return with_thread(s, t, thread._replace(local=pairs))


def with_thread(s: System, t: int, thread: Thread) -> System:
    threads = s.threads
    return s._replace(threads=threads[:t] + (thread,) + threads[t + 1:])


def with_counter(s: System, name: str, value: int) -> System:
    counter(s, name)  # a typo in a scheme must fail loudly, not add a counter
    return s._replace(counters=_set_pair(s.counters, name, value))


def with_page(s: System, pfn: int, page: Page) -> System:
    pages = s.pages
    return s._replace(pages=pages[:pfn] + (page,) + pages[pfn + 1:])


def with_pte(s: System, vpage: int, pfn) -> System:
    ptes = s.ptes
    return s._replace(ptes=ptes[:vpage] + (pfn,) + ptes[vpage + 1:])


def with_spte(s: System, vpage: int, spte) -> System:
    sptes = s.sptes
    return s._replace(sptes=sptes[:vpage] + (spte,) + sptes[vpage + 1:])
