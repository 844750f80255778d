"""struct page reference counting: get_page, put_page, and the allocator.

2.6.27, include/linux/mm.h: ``get_page`` is ``atomic_inc(&page->_count)``;
``put_page`` (mm/swap.c) frees the page when ``put_page_testzero`` brings the
count to zero.  A freed page goes back to the buddy allocator and may be
handed to another owner at any moment: that is what makes a secondary MMU
entry that outlives its reference dangerous.
"""
from __future__ import annotations

from ..core.kinds import REUSE
from ..core.program import Step
from ..core.state import FREE, IN_USE, REUSED, UNUSED, Page, System, with_page


def get_page(s: System, pfn: int) -> System:
    """include/linux/mm.h get_page: one more reference."""
    page = s.pages[pfn]
    return with_page(s, pfn, page._replace(refcount=page.refcount + 1))


def put_page(s: System, pfn: int) -> System:
    """mm/swap.c put_page: drop a reference; at zero the page is freed.

    A count that goes below zero is left as it is so that the ``refcount``
    invariant can report it (the kernel would hit VM_BUG_ON).
    """
    page = s.pages[pfn]
    count = page.refcount - 1
    if count == 0:   # a page still in a cache keeps ``cached``: the refcount invariant reports the lost reference
        return with_page(s, pfn, page._replace(refcount=0, state=FREE))
    return with_page(s, pfn, page._replace(refcount=count))


def alloc_page(s: System, pfn: int, value: int = 0, cached: bool = False) -> System:
    """mm/page_alloc.c __alloc_pages: a page with one reference (two if a cache takes it too), owned by the caller."""
    return with_page(s, pfn, Page(2 if cached else 1, IN_USE, cached, value))


def first_unused(s: System):
    """The page the next allocation in this run gets, or None (the model has a fixed set of pages)."""
    for pfn, page in enumerate(s.pages):
        if page.state == UNUSED:
            return pfn
    return None


def _hand_out_freed_page(s: System, t: int):
    for pfn, page in enumerate(s.pages):
        if page.state == FREE:
            return with_page(s, pfn, page._replace(refcount=1, state=REUSED))
    return None  # nothing to hand out yet: blocked


def allocator_steps() -> list:
    """Another task allocating memory: it gets the first page that was freed in this run."""
    return [Step(
        action="__alloc_pages: another task gets a freed page",
        run=_hand_out_freed_page,
        site="mm/page_alloc.c __alloc_pages (2.6.27): the buddy allocator reuses freed pages",
        kind=REUSE,
    )]
