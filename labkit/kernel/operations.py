"""The VM operations that take a page away from a process, and where each era calls the notifier hooks.

``zap``   unmap_vmas (mm/memory.c), reached from one of three callers
          (``caller``), each with its own locks and page lifetime:

          ``madv_dontneed``  madvise(MADV_DONTNEED) (mm/madvise.c): mmap_sem
              held for *reading*, so a secondary fault can walk the ptes at any
              point; anonymous pages are freed through the mmu_gather; the vma
              stays, so a later fault gets a new zeroed page.  What a balloon
              driver does to guest RAM: the default for the race.
          ``munmap``  sys_munmap (mm/mmap.c): mmap_sem held for *writing*
              around the whole unmap (mm/mmap.c:1937 at v2.6.27).  A fault
              that holds mmap_sem for reading (the secondary's FaultLocks for
              the era: KVM's walk until 2.6.27, the GRU's whole dropin) cannot
              race it; KVM's lockless fast path of 3.x can.  The vma is gone:
              nothing to fault in.
          ``truncate``  vmtruncate -> unmap_mapping_range (mm/memory.c) under
              i_mmap_lock (a spinlock until 3.0: the range callbacks are then
              atomic), no mmap_sem.  A page-cache page keeps the cache's
              reference through the unmap; truncate_inode_pages drops it after
              range_end.

          invalidate_range_start comes before any pte is cleared;
          zap_pte_range clears each pte under the PTL and gathers the page in
          the mmu_gather; the gathered pages are freed by tlb_flush_mmu /
          tlb_finish_mmu, *between* start and end whenever the batch fills
          (``release="before_end"``, the case a safe scheme must survive) and
          the last batch *after* end (``"after_end"``).
``rmap``  page reclaim (mm/vmscan.c shrink_page_list): lock_page, add_to_swap
          (the swap cache takes a reference), try_to_unmap_one (mm/rmap.c)
          clears the pte and leaves a swap entry in it, then __remove_mapping
          frees the page only if page_freeze_refs(page, 2) finds nobody but
          the swap cache and reclaim itself: an extra reference (a secondary's
          pin) keeps the page in the swap cache, and the next fault maps the
          same page again.
``cow``   a write fault on a page shared with a forked parent (do_wp_page):
          copy to a new page, then under the PTL clear the pte and point it at
          the new page, release the old one; the write then completes in the
          new page.  The old page stays alive (the parent maps it), so the
          danger here is an entry that keeps showing old data.
``cow2``  the store-order example of Documentation/vm/mmu_notifier.rst: two
          COW faults (addresses A and B, threads ``vm`` and ``vm2``), a CPU
          thread that stores to A then B, and the device reading B then A.

Where the hooks go, and in what context, is the era's
(:mod:`labkit.kernel.eras`).  A scheme that registers no invalidate_page but
does register range callbacks (``range_block``, Christoph's proposal) gets
them called at invalidate_page's site in reclaim, in the eras that call
invalidate_page there: a hypothetical placement (claim C6: try_to_unmap_one
holds spinlocks and works page by page), reported rather than refused.  COW
has no such site where the era brackets it with range_start/end (the January
2008 range patch, 3.7 onwards).
"""
from __future__ import annotations

from dataclasses import replace

from ..core.kinds import ALLOC, GET_PAGE, LOCK, PTE_CLEAR, PTE_SET, PUT_PAGE, RECLAIM, RELEASE, STORE, UNLOCK
from ..core.program import Call, Step, link
from ..core.state import FREE, IN_USE, Page, Pte, System, local, mapped, with_local, with_page, with_pte
from .eras import AFTER_UNLOCK, BRACKET, I_MMAP_LOCK, UNDER_PTL, Era, atomic_context
from .locks import (
    down_read_mmap_sem,
    down_write_mmap_sem,
    lock_page,
    lock_ptl,
    unlock_page,
    unlock_ptl,
    up_read_mmap_sem,
    up_write_mmap_sem,
)
from .pages import alloc_page, get_page, put_page

OPS = ("zap", "rmap", "cow", "cow2")
CALLERS = ("madv_dontneed", "munmap", "truncate")
RELEASES = ("before_end", "after_end")

MEMORY = "mm/memory.c"
RMAP = "mm/rmap.c try_to_unmap_one (2.6.27)"
VMSCAN = "mm/vmscan.c shrink_page_list, __remove_mapping (2.6.27)"
UNDER_PTL_RMAP = "PTL and anon_vma->lock (spinlocks) held in try_to_unmap_one"
UNDER_PTL_COW = "PTL held in do_wp_page"
NO_SLEEP_RANGE = "invalidate_range must not sleep: called under the PTL (include/linux/mmu_notifier.h from 3.19)"


def notify(scheme, hook: str, vpages: tuple, atomic, caller: str, secondary) -> list:
    """The steps of ``hook`` for this scheme, instantiated at one call site (empty if not registered).

    Every step carries the caller's atomic context (the invariants check a
    step that may sleep against it); the first also says which hook is called.
    """
    templates = getattr(scheme, hook)
    if not templates:
        return []
    call = Call(hook, tuple(vpages), atomic, caller, secondary)
    steps = [replace(template(call), hook=hook, atomic=atomic) for template in templates]
    steps[0] = replace(steps[0], calls=hook)
    return steps


def range_end(scheme, vpages: tuple, atomic, caller: str, secondary, era: Era) -> list:
    """invalidate_range_end; from 3.19 __mmu_notifier_invalidate_range_end calls invalidate_range first."""
    steps = notify(scheme, "invalidate_range", vpages, NO_SLEEP_RANGE, caller, secondary) \
        if era.has_invalidate_range else []
    return steps + notify(scheme, "invalidate_range_end", vpages, atomic, caller, secondary)


def at_page_site(scheme, vpage: int, atomic, caller: str, secondary) -> tuple:
    """invalidate_page at its site; a range-only driver gets its range hooks there (hypothetical, see above).

    Returns (steps just before the pte clear, steps at the site, steps after the references are dropped).
    """
    if scheme.invalidate_page or not scheme.has_range:
        return [], notify(scheme, "invalidate_page", (vpage,), atomic, caller, secondary), []
    return (notify(scheme, "invalidate_range_start", (vpage,), atomic, caller, secondary), [],
            notify(scheme, "invalidate_range_end", (vpage,), atomic, caller, secondary))


# -- zap: unmap_vmas, from madvise, munmap or truncate -------------------------------------

def writes_mmap_sem(op: str, caller: str) -> bool:
    """munmap is the one operation that takes mmap_sem for writing: only there does a fault's down_read matter."""
    return op == "zap" and caller == "munmap"


def zap_program(scheme, secondary, vpages: tuple, era: Era, release: str, caller: str = "madv_dontneed"):
    """unmap_vmas from ``caller``, its range callbacks in the era's context (RCU, preemption off, i_mmap_lock)."""
    spinlock = I_MMAP_LOCK if caller == "truncate" and not era.i_mmap_lock_sleeps else None
    start = atomic_context(era.dispatch, era.unmap_start, spinlock)
    end = atomic_context(era.dispatch, era.unmap_end, spinlock)
    steps = _caller_enters(caller, era)
    steps += notify(scheme, "invalidate_range_start", vpages, start, "unmap_vmas", secondary)
    steps.append(lock_ptl("zap_pte_range: pte_offset_map_lock", f"{MEMORY} zap_pte_range (2.6.27)"))
    for vpage in vpages:
        steps.append(Step("zap_pte_range: ptep_get_and_clear_full, page_remove_rmap, tlb_remove_page",
                          _clear_and_gather(vpage), f"{MEMORY} zap_pte_range (2.6.27)", kind=PTE_CLEAR))
    steps.append(unlock_ptl("zap_pte_range: pte_unmap_unlock", f"{MEMORY} zap_pte_range (2.6.27)"))
    flush = notify(scheme, "invalidate_range", vpages, NO_SLEEP_RANGE, "tlb_flush_mmu", secondary) \
        if era.has_invalidate_range else []
    free = _free_batch(caller, release)
    ending = range_end(scheme, vpages, end, "unmap_vmas", secondary, era)
    steps += (flush + [free] + ending) if release == "before_end" else (ending + flush + [free])
    return link("vm", steps + _caller_leaves(caller, era, vpages))


def _caller_enters(caller: str, era: Era) -> list:
    if caller == "munmap":
        return [down_write_mmap_sem("sys_munmap: down_write(mmap_sem)", "mm/mmap.c sys_munmap (2.6.27)")]
    if caller == "madv_dontneed":
        return [down_read_mmap_sem("sys_madvise(MADV_DONTNEED): down_read(mmap_sem)",
                                   "mm/madvise.c sys_madvise, madvise_need_mmap_write (2.6.2x)")]
    return [Step(f"unmap_mapping_range: {era.i_mmap_lock}", _no_change,
                 "mm/memory.c unmap_mapping_range (2.6.27: :2145; 3.0.8: :2849; 4.13.4: :2689)", kind=LOCK)]


def _caller_leaves(caller: str, era: Era, vpages: tuple) -> list:
    if caller == "munmap":   # after the last batch: tlb_finish_mmu runs in unmap_region, under mmap_sem
        return [up_write_mmap_sem("sys_munmap: up_write(mmap_sem)", "mm/mmap.c sys_munmap (2.6.27)")]
    if caller == "madv_dontneed":
        return [up_read_mmap_sem("sys_madvise: up_read(mmap_sem)", "mm/madvise.c sys_madvise (2.6.2x)")]
    return [Step(f"unmap_mapping_range: {era.i_mmap_unlock}", _no_change, "mm/memory.c unmap_mapping_range",
                 kind=UNLOCK),
            Step("truncate_inode_pages: remove_from_page_cache, page_cache_release (the page cache's reference)",
                 _drop_cache_references(vpages), "mm/truncate.c truncate_complete_page (2.6.27)", kind=RELEASE)]


def _free_batch(caller: str, release: str) -> Step:
    """tlb_finish_mmu: the gathered pages' mapping references go; a page-cache page keeps the cache's (a put, no free)."""
    cached = caller == "truncate"
    freed = "put_page: the page cache keeps its reference" if cached else "free_pages_and_swap_cache -> put_page"
    kind = PUT_PAGE if cached else RELEASE
    if release == "before_end":
        return Step(f"unmap_vmas: tlb_finish_mmu (zap_work ran out): flush the CPU TLB, {freed}", _free_gathered,
                    "mm/memory.c unmap_vmas, include/asm-generic/tlb.h tlb_finish_mmu (2.6.27); "
                    "tlb_remove_page also frees at once in fast mode or when the batch fills", kind=kind)
    return Step(f"zap_page_range: tlb_finish_mmu (last batch): flush the CPU TLB, {freed}", _free_gathered,
                "mm/memory.c zap_page_range / unmap_region: tlb_finish_mmu after unmap_vmas returns (2.6.27)",
                kind=kind)


def _clear_and_gather(vpage: int):
    def run(s: System, t: int) -> System:
        pfn = s.ptes[vpage].pfn
        s = with_pte(s, vpage, None)
        return with_local(s, t, gathered=local(s, t, "gathered", ()) + (pfn,))
    return run


def _free_gathered(s: System, t: int) -> System:
    for pfn in local(s, t, "gathered", ()):
        s = put_page(s, pfn)
    return with_local(s, t, gathered=())


def _drop_cache_references(vpages: tuple):
    def run(s: System, t: int) -> System:
        for pfn in vpages:                       # file page i is pfn i
            page = s.pages[pfn]
            if page.cached:
                s = put_page(with_page(s, pfn, page._replace(cached=False)), pfn)
        return s
    return run


def _no_change(s: System, t: int) -> System:
    return s


# -- rmap: shrink_page_list and try_to_unmap_one -----------------------------------------

def rmap_program(scheme, secondary, vpages: tuple, era: Era, pfns: tuple):
    """shrink_page_list, one page after another: lock it, unmap it, try to free it, unlock it."""
    rmap_notifier = era.rmap_notifier and secondary.sleeps    # XPMEM: the driver with its own reverse map
    steps = []
    for vpage in vpages:
        pfn = pfns[vpage]
        steps.append(lock_page(pfn, "shrink_page_list: trylock_page (locked until reclaim is done with it)", VMSCAN))
        steps += _try_to_unmap_one(scheme, secondary, vpage, pfn, era, rmap_notifier)
        if rmap_notifier:
            steps += _rmap_notifier(scheme, secondary, vpage, era)
        steps.append(Step("shrink_page_list: __remove_mapping: page_freeze_refs(page, 2) frees the page, or "
                          "it stays in the swap cache (putback_lru_page)", _reclaim(pfn), VMSCAN, kind=RECLAIM))
        steps.append(unlock_page("shrink_page_list: unlock_page", VMSCAN))
    return link("vm", steps)


def _rmap_notifier(scheme, secondary, vpage: int, era: Era) -> list:
    """Lameter's posted rmap notifier: per page, after try_to_unmap walked the rmaps; page lock, no spinlock.

    Its text says the callback "is outside of locks ... and able to sleep";
    its code, mmu_rmap_notifier(), runs it inside rcu_read_lock() (28, 29 and
    31 Jan 2008), so a sleeping driver (XPMEM) could not sleep there either.
    """
    site = ("Lameter's posting: mmu_rmap_notifier(invalidate_page, page) after try_to_unmap walked the rmaps, "
            "page lock held, no spinlock, inside rcu_read_lock() <20080128202924.095881796@sgi.com>, "
            "<20080201050623.817624793@sgi.com>")
    return [replace(step, action="mmu_rmap_notifier -> " + step.action, site=site)
            for step in sum(at_page_site(scheme, vpage, era.dispatch, "try_to_unmap", secondary), [])]


def _try_to_unmap_one(scheme, secondary, vpage: int, pfn: int, era: Era, rmap_notifier: bool) -> list:
    """One pte of try_to_unmap_one, with the hooks where ``era`` calls them."""
    one, caller = (vpage,), "try_to_unmap_one"
    before_clear, at_clear, after_puts, unlocked = [], [], [], []
    steps = []
    if era.rmap_hooks == BRACKET:
        steps += notify(scheme, "invalidate_range_start", one, era.dispatch, caller, secondary)
    elif era.rmap_hooks == UNDER_PTL and not rmap_notifier:
        before_clear, at_clear, after_puts = at_page_site(scheme, vpage, UNDER_PTL_RMAP, caller, secondary)
    elif era.rmap_hooks == AFTER_UNLOCK:
        unlocked = sum(at_page_site(scheme, vpage, era.dispatch, caller, secondary), [])
    steps.append(lock_ptl("try_to_unmap_one: page_check_address (takes the PTL)", RMAP))
    steps += before_clear
    clear = era.clear_notify if era.rmap_hooks == UNDER_PTL and not rmap_notifier else "ptep_clear_flush"
    steps.append(Step(f"try_to_unmap_one: {clear} (pte cleared, CPU TLB flushed)", _clear(vpage), RMAP,
                      kind=PTE_CLEAR))
    steps += at_clear
    steps.append(Step("try_to_unmap_one: set_pte_at(swp_entry_to_pte(entry)): the pte now holds a swap entry",
                      _swap_entry(vpage, pfn), RMAP, kind=PTE_SET))
    steps.append(Step("try_to_unmap_one: page_remove_rmap, page_cache_release -> put_page", _put(pfn), RMAP,
                      kind=PUT_PAGE))
    steps += after_puts
    if era.has_invalidate_range:
        steps += notify(scheme, "invalidate_range", one, NO_SLEEP_RANGE, caller, secondary)
    steps.append(unlock_ptl("try_to_unmap_one: pte_unmap_unlock", RMAP))
    steps += unlocked
    if era.rmap_hooks == BRACKET:
        steps += range_end(scheme, one, era.dispatch, caller, secondary, era)
    return steps


def _clear(vpage: int):
    def run(s: System, t: int) -> System:
        return with_pte(s, vpage, None)
    return run


def _swap_entry(vpage: int, pfn: int):
    def run(s: System, t: int) -> System:
        return with_pte(s, vpage, Pte(pfn, writable=False, swapped=True))
    return run


def _put(pfn: int):
    def run(s: System, t: int) -> System:
        return put_page(s, pfn)
    return run


def _reclaim(pfn: int):
    """__remove_mapping: page_freeze_refs(page, 2) wants exactly the swap cache's and reclaim's references."""
    def run(s: System, t: int) -> System:
        page = s.pages[pfn]
        if page.refcount == 2:             # freeze to 0, delete from the swap cache, free
            return with_page(s, pfn, page._replace(refcount=0, state=FREE, cached=False))
        return put_page(s, pfn)            # keep_locked ... putback_lru_page: reclaim drops its own reference
    return run


# -- cow: do_wp_page (wp_page_copy from 4.13) ---------------------------------------------

def cow_program(scheme, secondary, vpage: int, era: Era, old: int, new: int, name: str = "vm", store: bool = True):
    """do_wp_page: copy, then under the PTL clear the pte and point it at the new page, with the era's hooks.

    Bracketed (Lameter's range patch of 31 Jan 2008, 3.7 onwards):
    range_start after cow_user_page and before the PTL is taken again,
    range_end after pte_unmap_unlock.  The extra reference on the old page
    (page_cache_get above) is dropped under the PTL until 2.6.27
    (mm/memory.c:1929 at v2.6.27, and in the 2.6.24 context of the 2008
    patch), after range_end from 3.7 (mm/memory.c:2786-2797 at 3.7.2).
    """
    site = f"{MEMORY} do_wp_page (2.6.27)"
    bracket = era.cow_hooks == BRACKET
    late_release = bracket and era.cow_old_page_after_end
    before_clear, at_clear, after_puts = ([], [], []) if bracket else at_page_site(
        scheme, vpage, UNDER_PTL_COW, "do_wp_page", secondary)
    if bracket and era.has_invalidate_range:     # ptep_clear_flush_notify -> invalidate_range, under the PTL
        at_clear = notify(scheme, "invalidate_range", (vpage,), NO_SLEEP_RANGE, "do_wp_page", secondary)
    clear = "ptep_clear_flush" if bracket and not era.has_invalidate_range else era.clear_notify
    extra_ref = Step("do_wp_page: page_cache_release(old_page) -> put_page (the reference taken above)", _put(old),
                     site, kind=RELEASE)
    steps = [
        lock_ptl("handle_pte_fault: pte_offset_map_lock", f"{MEMORY} handle_pte_fault (2.6.27)"),
        Step("do_wp_page: vm_normal_page, page_cache_get(old_page) -> get_page", _get(old), site, kind=GET_PAGE),
        unlock_ptl("do_wp_page: pte_unmap_unlock before allocating", site),
        Step("do_wp_page: alloc_page_vma, cow_user_page (copy to the new page)", _copy(old, new), site, kind=ALLOC),
        *(notify(scheme, "invalidate_range_start", (vpage,), era.dispatch, "do_wp_page", secondary) if bracket else []),
        lock_ptl("do_wp_page: pte_offset_map_lock, pte_same", site),
        *before_clear,
        Step(f"do_wp_page: {clear} (pte cleared, CPU TLB flushed)", _clear(vpage), site, kind=PTE_CLEAR),
        *at_clear,
        Step("do_wp_page: set_pte_at (pte -> new page, writable), page_add_new_anon_rmap", _point(vpage, new), site,
             kind=PTE_SET),
        Step("do_wp_page: page_remove_rmap(old_page), page_cache_release -> put_page", _put(old), site,
             kind=PUT_PAGE),
        *([] if late_release else [extra_ref]),
        *after_puts,
        unlock_ptl("do_wp_page: pte_unmap_unlock", site),
        *(range_end(scheme, (vpage,), era.dispatch, "do_wp_page", secondary, era) if bracket else []),
        *([extra_ref] if late_release else []),
    ]
    if store:
        steps.append(store_step(vpage, "the write that faulted completes: the process stores to the new page"))
    return link(name, steps)


def _get(pfn: int):
    def run(s: System, t: int) -> System:
        return get_page(s, pfn)
    return run


def _copy(old: int, new: int):
    def run(s: System, t: int) -> System:
        return alloc_page(s, new, value=s.pages[old].value)
    return run


def _point(vpage: int, pfn: int):
    def run(s: System, t: int) -> System:
        return with_pte(s, vpage, Pte(pfn))
    return run


# -- CPU stores -----------------------------------------------------------------------------

def store_step(vpage: int, why: str) -> Step:
    """A CPU store through the pte; a read-only (COW-shared) pte would fault, so the store waits for the COW."""
    def run(s: System, t: int):
        pte = s.ptes[vpage]
        pfn = mapped(pte)
        if pfn is None or not pte.writable:
            return None
        number = max(s.stores) + 1
        page = s.pages[pfn]
        s = with_page(s, pfn, page._replace(value=number))
        return s._replace(stores=s.stores[:vpage] + (number,) + s.stores[vpage + 1:])
    return Step(f"CPU store to address {vpage}: {why}", run, "the process's own store instruction, through its pte",
                kind=STORE)


def writer_program(vpages: tuple):
    """The documentation's CPU-thread-2 and CPU-thread-3, as one thread: stores to A, then to B."""
    return link("cpu", [store_step(vpage, "through the pte (to the new page once the COW is done)")
                        for vpage in vpages])


# -- the pages before the operation ----------------------------------------------------------

def initial_pages(op: str, npages: int, caller: str) -> tuple:
    """Refcounts before the operation starts: what already holds each page, plus the pages that can be allocated.

    zap:  the pte's mapping reference (truncate: and the page cache's); madvise
          leaves the vma, so one page more can be faulted in.
    rmap: the mapping's, the swap cache's (add_to_swap) and reclaim's
          (isolate_lru_page); one page more for a swap-in after the page is freed.
    cow:  our mapping plus the forked parent's; one unused page for the copy.
    cow2: the same, for A and B.
    """
    if op == "zap":
        cached = caller == "truncate"
        pages = tuple(Page(2 if cached else 1, IN_USE, cached) for _ in range(npages))
        return pages + ((Page(0, "unused"),) if caller == "madv_dontneed" else ())
    if op == "rmap":
        return tuple(Page(3, IN_USE, True) for _ in range(npages)) + (Page(0, "unused"),)
    if op == "cow":
        return tuple(Page(2, IN_USE) for _ in range(npages)) + (Page(0, "unused"),)
    return (Page(2, IN_USE), Page(2, IN_USE), Page(0, "unused"), Page(0, "unused"))


def initial_ptes(op: str, npages: int) -> tuple:
    """Every pte maps its page; after fork a COW page is mapped read-only."""
    if op == "cow2":
        return (Pte(0, writable=False), Pte(1, writable=False))
    return tuple(Pte(pfn, writable=op != "cow") for pfn in range(npages))


def external_references(op: str, pages: tuple) -> tuple:
    """References held outside the model's structures, per pfn (the forked parent's for cow)."""
    if op in ("cow", "cow2"):
        return tuple(1 if page.state == IN_USE else 0 for page in pages)
    return (0,) * len(pages)
