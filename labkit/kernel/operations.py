"""The VM operations that take a page away from a process, at 2.6.27's granularity.

``zap``  unmap_vmas, as reached from munmap, zap_page_range (MADV_DONTNEED) or
         truncate (unmap_mapping_range, with i_mmap_lock held):
         invalidate_range_start before any pte is cleared; zap_pte_range
         clears each pte under the PTL and gathers the page in the mmu_gather;
         the gathered pages are freed by tlb_flush_mmu / tlb_finish_mmu; then
         invalidate_range_end.  2.6.27 frees gathered pages *between* start and
         end whenever the batch fills or unmap_vmas must reschedule, and the
         last batch *after* end (tlb_finish_mmu in the caller).  ``release``
         picks which one the scenario shows; ``before_end`` is the case a safe
         scheme must survive.
``rmap`` page reclaim through try_to_unmap_one (mm/rmap.c): under the
         anon_vma spinlock and the PTL, clear the pte and flush the CPU TLB,
         call invalidate_page, drop the mapping's reference.  Reclaim holds its
         own reference (isolate_lru_page) and frees the page afterwards only if
         nobody else holds one (shrink_page_list / __remove_mapping).
``cow``  a write fault on a page shared with a forked parent (do_wp_page):
         copy to a new page, then under the PTL clear and flush the pte,
         invalidate_page, point the pte at the new page, release the old one.
         The old page stays alive (the parent maps it), so the danger here is
         a *stale* entry: the guest keeps reading and writing the parent's page.

Who reached ``zap`` matters for the locks (``caller``).  munmap holds
mmap_sem for writing around the whole unmap; the secondary fault's
get_user_pages (KVM's gfn_to_pfn) holds it for reading while it walks the
pte, so under munmap the lock itself keeps a fault's walk out of the unmap
(the model's down_write / down_read steps, :mod:`labkit.kernel.locks`): only
a fault that read the pte *before* munmap began can race.  truncate holds no
mmap_sem, so every interleaving the model explores can happen there; its
i_mmap_lock is a spinlock in 2008, which the "2008-01" era's sleepable range
callbacks ignore (they follow munmap's context, the case the proposals were
about).

A scheme that registers no invalidate_page but does register range callbacks
(``range_block``, Christoph's proposal) gets them called at the
invalidate_page site of rmap and cow, under the PTL: that is the only place a
range could go in 2.6.27 (claim C6), and the model reports what happens there
instead of refusing the configuration.
"""
from __future__ import annotations

from dataclasses import replace

from ..core.kinds import ALLOC, GET_PAGE, PTE_CLEAR, PTE_SET, PUT_PAGE, RELEASE
from ..core.program import Call, Step, link
from ..core.state import FREE, IN_USE, Page, System, local, with_local, with_page, with_pte
from .eras import BRACKET, Era
from .locks import down_write_mmap_sem, lock_ptl, unlock_ptl, up_write_mmap_sem
from .pages import alloc_page, get_page, put_page

OPS = ("zap", "rmap", "cow")
RELEASES = ("before_end", "after_end")

MEMORY = "mm/memory.c"
RMAP = "mm/rmap.c try_to_unmap_one (2.6.27)"


def notify(scheme, hook: str, vpages: tuple, atomic, caller: str, secondary) -> list:
    """The steps of ``hook`` for this scheme, instantiated at one call site (empty if not registered)."""
    templates = getattr(scheme, hook)
    if not templates:
        return []
    call = Call(hook, tuple(vpages), atomic, caller, secondary)
    steps = [replace(template(call), hook=hook) for template in templates]
    steps[0] = replace(steps[0], calls=hook, atomic=atomic)
    return steps


def page_site_hooks(scheme, vpage: int, atomic: str, caller: str, secondary, era: Era):
    """The callbacks of a per-page unmap (rmap, COW), as lists of steps.

    Returns (before the PTL is taken, just before the clear, just after the
    clear, after the page's references are dropped, after the PTL is dropped).
    Where the era calls invalidate_page under the PTL, that is the only hook
    here, right after the clear; a range-only driver gets its range hooks at
    that site.  Where the era brackets (2017), the range hooks enclose the
    whole PTL section instead.
    """
    one = (vpage,)
    if era.page_hooks == BRACKET:
        return (notify(scheme, "invalidate_range_start", one, None, caller, secondary), [], [], [],
                notify(scheme, "invalidate_range_end", one, None, caller, secondary))
    if scheme.invalidate_page:
        return [], [], notify(scheme, "invalidate_page", one, atomic, caller, secondary), [], []
    return ([], notify(scheme, "invalidate_range_start", one, atomic, caller, secondary), [],
            notify(scheme, "invalidate_range_end", one, atomic, caller, secondary), [])


# -- zap: unmap_vmas ----------------------------------------------------------------

CALLERS = ("truncate", "munmap")


def zap_program(scheme, secondary, vpages: tuple, era: Era, release: str, caller: str = "truncate"):
    atomic = era.range_atomic
    steps = notify(scheme, "invalidate_range_start", vpages, atomic, "unmap_vmas", secondary)
    if caller == "munmap":
        steps.insert(0, down_write_mmap_sem("sys_munmap: down_write(mmap_sem)", "mm/mmap.c sys_munmap (2.6.27)"))
    steps.append(lock_ptl("zap_pte_range: pte_offset_map_lock", f"{MEMORY} zap_pte_range (2.6.27)"))
    for vpage in vpages:
        steps.append(Step("zap_pte_range: ptep_get_and_clear_full, page_remove_rmap, tlb_remove_page",
                          _clear_and_gather(vpage), f"{MEMORY} zap_pte_range (2.6.27)", kind=PTE_CLEAR))
    steps.append(unlock_ptl("zap_pte_range: pte_unmap_unlock", f"{MEMORY} zap_pte_range (2.6.27)"))
    free_batch = Step("unmap_vmas: tlb_finish_mmu (zap_work ran out): flush the CPU TLB, "
                      "free_pages_and_swap_cache -> put_page", _free_gathered,
                      "mm/memory.c unmap_vmas, include/asm-generic/tlb.h tlb_finish_mmu (2.6.27); "
                      "tlb_remove_page also frees at once in fast mode or when the batch fills",
                      kind=RELEASE)
    end = notify(scheme, "invalidate_range_end", vpages, atomic, "unmap_vmas", secondary)
    if release == "before_end":
        steps += [free_batch] + end
    else:
        steps += end + [replace(free_batch, action=(
            "zap_page_range: tlb_finish_mmu (last batch): flush the CPU TLB, free_pages_and_swap_cache -> put_page"),
            site="mm/memory.c zap_page_range / unmap_region: tlb_finish_mmu after unmap_vmas returns (2.6.27)")]
    if caller == "munmap":   # after the last batch: tlb_finish_mmu runs in unmap_region, under mmap_sem
        steps.append(up_write_mmap_sem("sys_munmap: up_write(mmap_sem)", "mm/mmap.c sys_munmap (2.6.27)"))
    return link("vm", steps)


def _clear_and_gather(vpage: int):
    def run(s: System, t: int) -> System:
        pfn = s.ptes[vpage]
        s = with_pte(s, vpage, None)
        return with_local(s, t, gathered=local(s, t, "gathered", ()) + (pfn,))
    return run


def _free_gathered(s: System, t: int) -> System:
    for pfn in local(s, t, "gathered", ()):
        s = put_page(s, pfn)
    return with_local(s, t, gathered=())


# -- rmap: try_to_unmap_one, then reclaim ---------------------------------------------

def rmap_program(scheme, secondary, vpages: tuple, era: Era, pfns: tuple):
    atomic = "PTL and anon_vma->lock (spinlocks) held in try_to_unmap_one"
    steps = []
    for vpage in vpages:
        pfn = pfns[vpage]
        outside, before, at_clear, after, unlocked = page_site_hooks(
            scheme, vpage, atomic, "try_to_unmap_one", secondary, era)
        steps += outside
        steps.append(lock_ptl("try_to_unmap_one: page_check_address (takes the PTL)", RMAP))
        steps += before
        steps.append(Step("try_to_unmap_one: ptep_clear_flush (pte cleared, CPU TLB flushed)",
                          _clear(vpage), RMAP, kind=PTE_CLEAR))
        steps += at_clear
        steps.append(Step("try_to_unmap_one: page_remove_rmap, page_cache_release -> put_page",
                          _put(pfn), RMAP, kind=PUT_PAGE))
        steps += after
        steps.append(unlock_ptl("try_to_unmap_one: pte_unmap_unlock", RMAP))
        steps += unlocked
        steps.append(Step("shrink_page_list: __remove_mapping frees the page, "
                          "or putback_lru_page if someone else holds a reference",
                          _reclaim(pfn), "mm/vmscan.c shrink_page_list, __remove_mapping (2.6.27)",
                          kind=RELEASE))
    return link("vm", steps)


def _clear(vpage: int):
    def run(s: System, t: int) -> System:
        return with_pte(s, vpage, None)
    return run


def _put(pfn: int):
    def run(s: System, t: int) -> System:
        return put_page(s, pfn)
    return run


def _reclaim(pfn: int):
    """__remove_mapping refuses a page with references it does not expect (page_freeze_refs)."""
    def run(s: System, t: int) -> System:
        page = s.pages[pfn]
        if page.refcount == 1:       # only reclaim's own reference is left
            return with_page(s, pfn, Page(0, FREE))
        return put_page(s, pfn)      # putback_lru_page: the page lives on
    return run


# -- cow: do_wp_page -------------------------------------------------------------------

def cow_program(scheme, secondary, vpage: int, era: Era, old: int, new: int):
    site = f"{MEMORY} do_wp_page (2.6.27)"
    atomic = "PTL held in do_wp_page"
    outside, before, at_clear, after, unlocked = page_site_hooks(scheme, vpage, atomic, "do_wp_page",
                                                                 secondary, era)
    steps = [
        lock_ptl("handle_pte_fault: pte_offset_map_lock", f"{MEMORY} handle_pte_fault (2.6.27)"),
        Step("do_wp_page: vm_normal_page, page_cache_get(old_page) -> get_page", _get(old), site, kind=GET_PAGE),
        unlock_ptl("do_wp_page: pte_unmap_unlock before allocating", site),
        Step("do_wp_page: alloc_page_vma, cow_user_page (copy to the new page)", _alloc(new), site, kind=ALLOC),
        *outside,
        lock_ptl("do_wp_page: pte_offset_map_lock, pte_same", site),
        *before,
        Step("do_wp_page: ptep_clear_flush (pte cleared, CPU TLB flushed)", _clear(vpage), site, kind=PTE_CLEAR),
        *at_clear,
        Step("do_wp_page: set_pte_at (pte -> new page), page_add_new_anon_rmap", _point(vpage, new), site,
             kind=PTE_SET),
        Step("do_wp_page: page_remove_rmap(old_page), page_cache_release -> put_page", _put(old), site,
             kind=PUT_PAGE),
        Step("do_wp_page: page_cache_release(old_page) -> put_page", _put(old), site, kind=RELEASE),
        *after,
        unlock_ptl("do_wp_page: pte_unmap_unlock", site),
        *unlocked,
    ]
    return link("vm", steps)


def _get(pfn: int):
    def run(s: System, t: int) -> System:
        return get_page(s, pfn)
    return run


def _alloc(pfn: int):
    def run(s: System, t: int) -> System:
        return alloc_page(s, pfn)
    return run


def _point(vpage: int, pfn: int):
    def run(s: System, t: int) -> System:
        return with_pte(s, vpage, pfn)
    return run


def initial_pages(op: str, npages: int) -> tuple:
    """Refcounts before the operation starts: what already holds each page.

    zap:  the pte's mapping reference.
    rmap: the mapping's reference plus reclaim's (isolate_lru_page took it).
    cow:  our mapping plus the forked parent's; one unused page for the copy.
    """
    if op == "zap":
        return tuple(Page(1, IN_USE) for _ in range(npages))
    if op == "rmap":
        return tuple(Page(2, IN_USE) for _ in range(npages))
    return tuple(Page(2, IN_USE) for _ in range(npages)) + (Page(0, "unused"),)


def external_references(op: str, npages: int) -> tuple:
    """References held outside the model's structures, per pfn (the forked parent's for cow)."""
    if op == "cow":
        return (1,) * npages + (0,)
    return (0,) * npages
