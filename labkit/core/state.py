"""The whole system at one instant, as one immutable, hashable value.

Everything the threads share lives in a :class:`System`: the struct pages
(with their reference counts and contents), the Linux ptes, the secondary
MMU's entries (sptes), the locks, the notifier's counters, what the CPU last
stored at each address, and each thread's program counter and local
variables.  Because it
is a tuple of tuples, the explorer can store visited states in a set, and
``simulate`` can keep every intermediate state for the timeline.

The helpers below are the only way steps change a state; each returns a new
value and never mutates.  They are plain functions (not methods) because the
explorer calls them millions of times and attribute lookup on a class costs.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .messages import shown

#: Page states.  ``unused`` pages have not been handed out in this run yet
#: (the new page a COW fault will allocate); ``free`` pages went back to the
#: buddy allocator; ``reused`` pages were handed to another owner afterwards.
UNUSED, IN_USE, FREE, REUSED = "unused", "in_use", "free", "reused"

#: No thread holds the lock.
NOBODY = -1


class Page(NamedTuple):
    """A struct page: its reference count (2.6.27's ``page->_count``), who owns it, and what it holds.

    ``cached`` is True while the page cache or the swap cache holds one of the
    references (a file page until truncate_inode_pages; an anonymous page under
    reclaim from add_to_swap until __remove_mapping).  ``value`` is the data:
    the number of the last CPU store that reached this page (0: none yet);
    COW copies it to the new page, swap-in reads it back.
    """

    refcount: int
    state: str
    cached: bool = False
    value: int = 0


class Pte(NamedTuple):
    """A Linux pte: the page it maps, whether it allows writes, or a swap entry.

    ``swapped`` is True when try_to_unmap_one replaced the mapping by a swap
    entry (2.6.27 mm/rmap.c: ``set_pte_at(mm, address, pte,
    swp_entry_to_pte(entry))``); ``pfn`` is then the page whose swap slot the
    entry names: the page itself while it is still in the swap cache.
    ``writable`` is False for a page shared copy-on-write with a forked parent.
    """

    pfn: int
    writable: bool = True
    swapped: bool = False


class Spte(NamedTuple):
    """A secondary MMU entry: the page frame it maps, whether it holds a page reference, whether it allows writes.

    ``pinned`` is True when the entry keeps the reference the fault took with
    get_user_pages, as KVM's rmap did until 2009 (rmap_add keeps it,
    rmap_remove drops it with kvm_release_pfn_clean).  ``writable`` follows
    the pte the fault found: KVM's gfn_to_pfn asks for write (and so breaks
    COW itself), the GRU maps a read miss read-only.
    """

    pfn: int
    pinned: bool
    writable: bool = True


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
    ptes: tuple[Optional[Pte], ...]          # virtual page -> Pte or None (the Linux pte)
    sptes: tuple[Optional[Spte], ...]        # virtual page -> Spte or None (spte / GRU TLB entry / XPMEM mapping)
    ptl: int                                 # thread holding the page-table lock, or NOBODY
    mmu_lock: int                            # thread holding the secondary MMU's lock, or NOBODY
    counters: tuple[tuple[str, int], ...]    # (name, value) pairs: mmu_notifier_seq, mmu_notifier_count, ...
    threads: tuple[Thread, ...]              # Thread per thread, in the scenario's thread order
    mmap_sem: int = 0                        # 0 free, -1 held for writing (munmap), n > 0 held for reading
    page_lock: int = NOBODY                  # the pfn reclaim holds lock_page on, or NOBODY
    stores: tuple[int, ...] = ()             # virtual page -> number of the CPU's last store there (0: none)


# -- reading ---------------------------------------------------------------

def local(s: System, t: int, name: str, default=None):
    """Return thread ``t``'s local variable ``name``."""
    for key, value in s.threads[t].local:
        if key == name:
            return value
    return default


def mapped(pte: Optional[Pte]) -> Optional[int]:
    """The page a pte maps and the CPU can use now (None: no pte, or a swap entry)."""
    return None if pte is None or pte.swapped else pte.pfn


def backing(s: System, vpage: int) -> Optional[int]:
    """The page that holds ``vpage``'s data for the process: mapped, or still in the swap cache behind a swap entry."""
    pte = s.ptes[vpage]
    if pte is None:
        return None
    if pte.swapped:
        page = s.pages[pte.pfn]
        return pte.pfn if page.cached and page.state == IN_USE else None
    return pte.pfn


def counter(s: System, name: str) -> int:
    """Return the notifier counter ``name`` (for example ``mmu_notifier_seq``)."""
    for key, value in s.counters:
        if key == name:
            return value
    raise KeyError(f"no counter {shown(name)}; this scheme has {shown([k for k, _ in s.counters])}")


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


def with_pte(s: System, vpage: int, pte: Optional[Pte]) -> System:
    ptes = s.ptes
    return s._replace(ptes=ptes[:vpage] + (pte,) + ptes[vpage + 1:])


def with_spte(s: System, vpage: int, spte) -> System:
    sptes = s.sptes
    return s._replace(sptes=sptes[:vpage] + (spte,) + sptes[vpage + 1:])
