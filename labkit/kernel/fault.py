"""The secondary MMU's fault path, in the four reference modes the lab compares.

``off``
    follow_page-like (GRU's gru_try_dropin): read the pte under the PTL, take
    no reference, drop the PTL, then install the entry under the driver's lock.
``pin``
    get_user_pages-like (KVM in 2.6.27: gfn_to_pfn): read the pte and
    ``get_page`` under the PTL; the spte keeps that reference until it is
    zapped (mmu_set_spte/rmap_add keep it, rmap_remove releases it).
``gup_release``
    get_user_pages, but the reference is dropped right after the spte is
    installed (KVM from 2009, Izik Eidus, commit acb66dd051d0): the spte maps
    a page it does not hold.
``off_under_ptl``
    read the pte and install the entry while still holding the PTL, so
    anything that clears the pte under the PTL (try_to_unmap_one, do_wp_page)
    is serialised against the install.

Every attempt may begin with the scheme's ``fault_begin`` steps (KVM reads
``mmu_notifier_seq``) and ends, under the driver's lock, with its
``fault_retry`` check.  A failed check releases the reference it took and
starts again (KVM 2.6.27, arch/x86/kvm/mmu.c: ``out_unlock: spin_unlock;
kvm_release_pfn_clean(pfn); return 0`` and the vCPU faults again), at most
``attempts`` times; then the model gives up, as a vCPU that is descheduled
would.

A pte that is not there is faulted in the way get_user_pages would
(handle_mm_fault), then walked again: a swap entry by do_swap_page, an empty
pte in a vma that is still there (madvise(MADV_DONTNEED)) by
do_anonymous_page (a new zeroed page).  do_swap_page (mm/memory.c:2269 and
2298 at v2.6.27) first looks the page up in the swap cache with
lookup_swap_cache, which takes a reference (find_get_page), and only then
waits for reclaim's page lock: a fault that finds the page there makes
reclaim's page_freeze_refs(page, 2) fail, so the page stays in the swap
cache and the fault maps the same page again.  A page that already left the
swap cache is read back into a new page.
Where the vma is gone (munmap) or the file ends before the page (truncate)
there is nothing to map: get_user_pages fails and the fault gives up.  A
driver that asks for write (KVM's gfn_to_pfn until the 3.x hva_to_pfn) on a
read-only pte (a page shared copy-on-write) makes handle_mm_fault break the
COW first: the model's COW thread stands for that do_wp_page, and the fault
waits for it, then walks again.

GRU's atomic_pte_lookup reads the pte with interrupts off and without the PTL
(docs/kernel-sites.md item 9): the model's GRU walk (refmode off) is one
lockless read, which may land inside another thread's PTL section and see a
pte that section has cleared and not yet set again.  The other walks take
the PTL (follow_page under pte_offset_map_lock).

How long the fault holds mmap_sem for reading is the secondary's, per era
(:class:`~labkit.kernel.secondaries.FaultLocks`): around the walk only
(KVM's gfn_to_pfn in 2.6.27: down_read, get_user_pages, up_read; the
down_read and up_read ride on the walk's PTL steps), for the whole fault
(the GRU: from before the walk to the dropin, across its retries; a thread
that gives up releases it on the way out), or not at all (KVM's lockless
hva_to_pfn_fast from 3.x).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.kinds import CHECK, GET_PAGE, INSTALL, PTE_READ, PUT_PAGE, READ_BEGIN, REFAULT, RETRY
from ..core.program import DONE, Call, Step, link
from ..core.state import IN_USE, NOBODY, Pte, Spte, System, counter, local, mapped, with_local, with_pte, with_spte
from .locks import down_read_mmap_sem, lock_mmu, lock_ptl, unlock_mmu, unlock_ptl, up_read_mmap_sem, up_read_mmap_sem
from .pages import alloc_page, first_unused, get_page, put_page
from .secondaries import AROUND_WALK, HARDWARE_INVALIDATES, NO_MMAP_SEM, WHOLE_FAULT

REFMODES = ("off", "pin", "gup_release", "off_under_ptl")

FOLLOW_PAGE = "mm/memory.c follow_page (2.6.27)"
GRU_FAULT = "drivers/misc/sgi-gru/grufault.c gru_try_dropin (2008): the NOTE on the dropin race"
GRU_LOOKUP = "drivers/misc/sgi-gru/grufault.c atomic_pte_lookup (2008): local_irq_disable, walk, no PTL"
SWAP_IN = "mm/memory.c do_swap_page (v2.6.27: lookup_swap_cache at :2269, lock_page at :2298)"
#: Where a fault that holds mmap_sem for its whole length goes when it is done (up_read, then the end).
OUT = "out"
#: The fault's local variable for the page lookup_swap_cache found (and took a reference on).
SWAP_CACHE = "swapcache"


@dataclass(frozen=True)
class FaultPath:
    """What one fault path is built from: the decisions are taken here once, the phases only read them."""

    vpage: int
    scheme: object          # labkit.kernel.schemes.Scheme
    secondary: object       # labkit.kernel.secondaries.Secondary
    refmode: str
    attempts: int
    mmap_sem: str = NO_MMAP_SEM  # how long the fault holds mmap_sem for reading (secondaries.MMAP_SEM_SPANS)
    mmap_sem_site: str = ""      # the source of that span
    vma_stays: bool = False  # an empty pte can be faulted in (madvise(MADV_DONTNEED) leaves the vma)
    asks_write: bool = False  # get_user_pages(write=1): a read-only pte is COW-broken first

    @property
    def takes_ref(self) -> bool:
        return self.refmode in ("pin", "gup_release")

    @property
    def under_ptl(self) -> bool:
        return self.refmode == "off_under_ptl"

    @property
    def checks_early(self) -> bool:
        """The scheme checks before the pte walk, without a lock (GRU's ms_range_active)."""
        return self.scheme.fault_retry is not None and self.scheme.check_at == "begin"

    @property
    def checks_late(self) -> bool:
        """The scheme checks under the driver's lock, just before installing (KVM's mmu_notifier_retry)."""
        return self.scheme.fault_retry is not None and not self.checks_early

    @property
    def lockless(self) -> bool:
        """The GRU's atomic_pte_lookup reads the pte with interrupts off and no PTL (and takes no reference)."""
        return self.secondary.lockless_walk and not self.takes_ref and not self.under_ptl

    @property
    def walk_holds_mmap_sem(self) -> bool:
        """down_read and up_read around the walk alone: they ride on its PTL lock and unlock steps."""
        return self.mmap_sem == AROUND_WALK

    @property
    def exit(self) -> str:
        """Where the thread goes when it is done: the end, or first the up_read of a fault that holds mmap_sem."""
        return OUT if self.mmap_sem == WHOLE_FAULT else DONE

    @property
    def walker(self) -> str:
        return "get_user_pages -> follow_page" if self.takes_ref else self.secondary.walker

    @property
    def site(self) -> str:
        return self.secondary.fault_site


def fault_program(name: str, vpage: int, scheme, secondary, refmode: str, attempts: int,
                  mmap_sem: str = NO_MMAP_SEM, vma_stays: bool = False, asks_write: bool = False,
                  mmap_sem_site: str = ""):
    """Build the fault thread for one vCPU (or one GRU context) faulting on ``vpage``.

    Four phases: begin (what the fault remembers before the walk, and an early
    check), walk (read the pte under the PTL, perhaps take a reference),
    install (under the driver's lock, after its check), retry (give the
    attempt up and start again).  ``mmap_sem`` says how long the fault holds
    mmap_sem for reading (:data:`~labkit.kernel.secondaries.MMAP_SEM_SPANS`;
    the caller reads it from the secondary's record for the era).
    """
    if secondary.translates_on_miss:
        return link(name, [translation(vpage, secondary)])
    path = FaultPath(vpage, scheme, secondary, refmode, attempts, mmap_sem, mmap_sem_site, vma_stays, asks_write)
    begin, walk = begin_phase(path), walk_phase(path)
    if begin:
        begin[0] = replace(begin[0], label="begin")
    else:                                   # nothing before the walk: a retry starts at the walk itself
        walk[0] = replace(walk[0], label="begin")
    steps = begin + walk + install_phase(path) + retry_phase(path) + refault_phase(path, walk[0].label)
    if path.mmap_sem == WHOLE_FAULT:
        steps = ([down_read_mmap_sem(f"{secondary.fault}: down_read(mmap_sem), held until the entry is installed",
                                     path.mmap_sem_site)]
                 + steps
                 + [up_read_mmap_sem(f"{secondary.fault}: up_read(mmap_sem)", path.mmap_sem_site, label=OUT)])
    return link(name, steps)


def begin_phase(path: FaultPath) -> list:
    """Before the walk: the scheme's fault_begin (KVM reads mmu_notifier_seq), the GRU's TFH read, an early check."""
    secondary = path.secondary
    call = Call("fault", (path.vpage,), None, secondary.fault, secondary)
    steps = [template(call) for template in path.scheme.fault_begin]
    if secondary.hardware_drop:
        steps.insert(0, Step(f"{secondary.fault}: read the TFH (the hardware now watches for invalidates)",
                             _note_hardware_invalidates, GRU_FAULT, kind=READ_BEGIN))
    if path.checks_early:
        steps.append(Step(f"{secondary.fault}: {path.scheme.retry_name}", _no_change, path.site, kind=CHECK,
                          choose=_retry_if(path.scheme.fault_retry, "refused")))
    return steps


def walk_phase(path: FaultPath) -> list:
    """follow_page: read the pte under the PTL; get_page if the mode takes a reference; drop the PTL unless kept."""
    read = Step(f"{path.walker}: read the pte", _reader(path.vpage), FOLLOW_PAGE, kind=PTE_READ,
                choose=_usable_or(path.asks_write))
    if path.lockless:
        return [replace(read, action=f"{path.walker}: read the pte (interrupts off, no PTL)", site=GRU_LOOKUP,
                        label="walk")]
    steps = [lock_ptl(f"{path.walker}: pte_offset_map_lock", FOLLOW_PAGE, label="walk",
                      mmap_sem=path.walk_holds_mmap_sem),
             read]
    if path.takes_ref:
        steps.append(Step("follow_page(FOLL_GET): get_page", _take_reference, FOLLOW_PAGE, kind=GET_PAGE))
    if not path.under_ptl:
        steps.append(unlock_ptl(f"{path.walker}: pte_unmap_unlock", FOLLOW_PAGE, mmap_sem=path.walk_holds_mmap_sem))
    return steps


def install_phase(path: FaultPath) -> list:
    """Under the driver's lock: the scheme's check, the install (or the GRU's dropin), then unlock."""
    secondary, site, pinned = path.secondary, path.site, path.refmode == "pin"
    steps = [lock_mmu(f"{secondary.fault}: lock {secondary.lock}", site, may_sleep=secondary.sleeps)]
    if path.checks_late:
        steps.append(Step(f"{secondary.fault}: {path.scheme.retry_name}", _no_change, site, kind=CHECK,
                          choose=_retry_if(path.scheme.fault_retry)))
    if secondary.hardware_drop:
        steps.append(Step(f"{secondary.install}: dropin, ignored by the hardware if an invalidate came since the TFH",
                          _hardware_installer(path.vpage, pinned), GRU_FAULT, kind=INSTALL,
                          choose=_retry_if(_hardware_dropped)))
    else:
        steps.append(Step(f"{secondary.install}: {secondary.entry} = pfn", _installer(path.vpage, pinned),
                          f"{secondary.source}: {secondary.install}", kind=INSTALL))
    if path.refmode == "gup_release":
        steps.append(Step(f"{secondary.install}: {secondary.release}", _release_reference,
                          secondary.gup_release_site, kind=PUT_PAGE))
    if path.under_ptl:
        steps.append(unlock_mmu(f"{secondary.fault}: unlock {secondary.lock}", site))
        steps.append(unlock_ptl(f"{path.walker}: pte_unmap_unlock", FOLLOW_PAGE, choose=_to(path.exit),
                                mmap_sem=path.walk_holds_mmap_sem))
    else:
        steps.append(unlock_mmu(f"{secondary.fault}: unlock {secondary.lock}", site, choose=_to(path.exit)))
    return steps


def refault_phase(path: FaultPath, walk: str) -> list:
    """No usable pte: drop the PTL, let handle_mm_fault fill it (or give up), walk again (from label ``walk``).

    A swap entry whose page is still in the swap cache takes two steps, as
    do_swap_page does: lookup_swap_cache takes a reference at once, then
    lock_page waits for reclaim before the pte is set (the reference becomes
    the pte's).
    """
    refault = _can_refault(path.vpage, path.vma_stays, path.exit)
    if path.lockless:     # atomic_pte_lookup returns 1: try again the non-atomic way (get_user_pages)
        unlock = Step(f"{path.walker}: no page mapped: fall back to non_atomic_pte_lookup", _no_change, GRU_LOOKUP,
                      kind=REFAULT, label="missing", choose=refault)
    else:
        unlock = unlock_ptl(f"{path.walker}: no page mapped: pte_unmap_unlock", FOLLOW_PAGE, label="missing",
                            choose=refault, mmap_sem=path.walk_holds_mmap_sem)
    how = "do_anonymous_page or do_swap_page" if path.vma_stays else "do_swap_page"
    steps = [unlock,
             Step(f"handle_mm_fault: {how} (lookup_swap_cache takes a reference)", _refault(path.vpage, path.vma_stays),
                  f"mm/memory.c handle_mm_fault; {SWAP_IN}", kind=REFAULT, label="refault",
                  choose=_swap_cache_or(walk)),
             Step("do_swap_page: lock_page (waits for reclaim), pte_same, set_pte_at: the same page mapped again",
                  _map_from_swap_cache(path.vpage), SWAP_IN, kind=REFAULT, label="swap_cache", choose=_to(walk))]
    if path.asks_write:
        steps += [unlock_ptl(f"{path.walker}: read-only pte, the fault asked for write: pte_unmap_unlock",
                             FOLLOW_PAGE, label="break_cow", mmap_sem=path.walk_holds_mmap_sem),
                  Step("handle_mm_fault(write) -> do_wp_page: the COW is broken before the page is mapped",
                       _cow_broken(path.vpage), "mm/memory.c do_wp_page, reached from get_user_pages(write=1)",
                       kind=REFAULT, choose=_to(walk))]
    return steps


def translation(vpage: int, secondary) -> Step:
    """An ATS translation request: the IOMMU walks the CPU page table and fills its IOTLB, in one step.

    The hardware walk takes no lock; the IOMMU orders a fill against an
    invalidation (an invalidation waits for translations in flight), so a
    fill is one atomic step.  A pte that is not present gives no translation
    (a page request to fault it in is not modelled).
    """
    return Step(f"{secondary.fault}: {secondary.walker} fills the {secondary.entry}", fill_translation(vpage),
                secondary.fault_site, kind=INSTALL)


def fill_translation(vpage: int):
    def run(s: System, t: int) -> System:
        pte = s.ptes[vpage]
        if mapped(pte) is None:
            return s
        return with_spte(s, vpage, Spte(pte.pfn, False, pte.writable))
    return run


def retry_phase(path: FaultPath) -> list:
    """Where a failed check goes: out_unlock after a late check or a dropped dropin, "refused" after an early one."""
    steps = []
    if path.checks_late or path.secondary.hardware_drop:
        steps += _retry_path(path)
    if path.checks_early:
        steps.append(Step(f"{path.secondary.fault}: refused, wait for range_end and fault again",
                          _counting_attempt(_no_change), path.site, kind=RETRY, label="refused",
                          choose=_again_if_below(path.attempts, path.exit)))
    return steps


def _retry_path(path: FaultPath) -> list:
    """out_unlock: drop the lock(s), release the reference, fault again (or give up)."""
    secondary = path.secondary
    site = secondary.fault_site
    steps = [unlock_mmu(f"{secondary.fault}: retry: unlock {secondary.lock}", site, label="retry")]
    if path.under_ptl:
        steps.append(unlock_ptl("follow_page: retry: pte_unmap_unlock", FOLLOW_PAGE,
                                mmap_sem=path.walk_holds_mmap_sem))
    if path.takes_ref:
        steps.append(Step(f"{secondary.fault}: out_unlock: {secondary.release}", _release_reference,
                          site, kind=PUT_PAGE))
    last = steps[-1]
    steps[-1] = replace(last, run=_counting_attempt(last.run), choose=_again_if_below(path.attempts, path.exit))
    return steps


# -- step bodies ---------------------------------------------------------------

def _no_change(s: System, t: int) -> System:
    return s


def _reader(vpage: int):
    def run(s: System, t: int) -> System:
        pte = s.ptes[vpage]
        pfn = mapped(pte)
        return with_local(s, t, pfn=pfn, writable=None if pfn is None else pte.writable)
    return run


def _usable_or(asks_write: bool):
    """After the pte read: nothing mapped -> ``missing``; read-only but write asked -> ``break_cow``."""
    def choose(s: System, t: int):
        if local(s, t, "pfn") is None:
            return "missing"
        if asks_write and not local(s, t, "writable"):
            return "break_cow"
        return _NEXT
    return choose


def _can_refault(vpage: int, vma_stays: bool, exit: str):
    def choose(s: System, t: int):
        pte = s.ptes[vpage]
        return "refault" if (pte is not None and pte.swapped) or vma_stays else exit
    return choose


def _swap_cache_or(walk: str):
    """After handle_mm_fault: to lock_page if lookup_swap_cache found the page, else straight back to the walk."""
    def choose(s: System, t: int) -> str:
        return "swap_cache" if local(s, t, SWAP_CACHE) is not None else walk
    return choose


def _to(label: str):
    def choose(s: System, t: int) -> str:
        return label
    return choose


def _refault(vpage: int, vma_stays: bool):
    """handle_mm_fault: do_anonymous_page, or do_swap_page's lookup_swap_cache; blocked while the PTL is held.

    lookup_swap_cache (find_get_page) takes its reference before lock_page
    (mm/memory.c:2269 and 2298 at v2.6.27; :2946 and :2976 at 3.7.2): a page
    found there is remembered and mapped by the next step once reclaim has
    unlocked it.  A page no longer in the swap cache is read back into a new
    page, mapped at once.
    """
    def run(s: System, t: int):
        if s.ptl != NOBODY:
            return None
        pte = s.ptes[vpage]
        if pte is None:
            return _new_page(s, vpage, value=0, cached=False) if vma_stays else s
        if not pte.swapped:
            return s                                    # someone else faulted it in meanwhile
        page = s.pages[pte.pfn]
        if page.cached and page.state == IN_USE:        # find_get_page: a reference, before lock_page
            return with_local(get_page(s, pte.pfn), t, **{SWAP_CACHE: pte.pfn})
        return _new_page(s, vpage, value=page.value, cached=True)   # swapin_readahead: read back from swap
    return run


def _map_from_swap_cache(vpage: int):
    """do_swap_page after lookup_swap_cache: lock_page waits for reclaim; the pte maps the page it found.

    If the pte changed meanwhile (another fault mapped it), out_nomap drops
    the reference (page_cache_release).
    """
    def run(s: System, t: int):
        pfn = local(s, t, SWAP_CACHE)
        if s.page_lock == pfn or s.ptl != NOBODY:
            return None
        s = with_local(s, t, **{SWAP_CACHE: None})
        pte = s.ptes[vpage]
        if pte is not None and pte.swapped and pte.pfn == pfn:
            return with_pte(s, vpage, Pte(pfn))         # the reference lookup_swap_cache took is the pte's now
        return put_page(s, pfn)
    return run


def _new_page(s: System, vpage: int, value: int, cached: bool):
    pfn = first_unused(s)
    if pfn is None:
        return None
    return with_pte(alloc_page(s, pfn, value, cached), vpage, Pte(pfn))


def _cow_broken(vpage: int):
    def run(s: System, t: int):
        pte = s.ptes[vpage]
        return s if pte is None or pte.writable else None
    return run


def _take_reference(s: System, t: int) -> System:
    pfn = local(s, t, "pfn")
    return with_local(get_page(s, pfn), t, ref=pfn)


def _release_reference(s: System, t: int) -> System:
    return with_local(put_page(s, local(s, t, "ref")), t, ref=None)


def _installer(vpage: int, pinned: bool):
    """mmu_set_spte (2.6.27): install, or find the spte already there (another vCPU was first).

    Same page already mapped ("was_rmapped"): the new reference is released at
    once (kvm_release_pfn_clean).  Another page mapped: rmap_remove drops the
    old spte's reference before the new spte takes over.
    """
    def run(s: System, t: int) -> System:
        pfn, old = local(s, t, "pfn"), s.sptes[vpage]
        if old is not None and old.pfn == pfn:
            return with_local(put_page(s, pfn), t, ref=None) if pinned else s
        if old is not None and old.pinned:
            s = put_page(s, old.pfn)
        s = with_spte(s, vpage, Spte(pfn, pinned, local(s, t, "writable", True)))
        # a pinned spte now owns the reference the fault took
        return with_local(s, t, ref=None) if pinned else s
    return run


def _note_hardware_invalidates(s: System, t: int) -> System:
    return with_local(s, t, tfh=counter(s, HARDWARE_INVALIDATES))


def _hardware_dropped(s: System, t: int) -> bool:
    return counter(s, HARDWARE_INVALIDATES) != local(s, t, "tfh")


def _hardware_installer(vpage: int, pinned: bool):
    install = _installer(vpage, pinned)

    def run(s: System, t: int) -> System:
        return s if _hardware_dropped(s, t) else install(s, t)
    return run


def _retry_if(check, target: str = "retry"):
    def choose(s: System, t: int):
        return target if check(s, t) else _NEXT
    return choose


def _counting_attempt(run):
    def counted(s: System, t: int) -> System:
        s = run(s, t)
        return with_local(s, t, attempt=local(s, t, "attempt", 1) + 1)
    return counted


def _again_if_below(attempts: int, exit: str):
    def choose(s: System, t: int):
        return "begin" if local(s, t, "attempt") <= attempts else exit
    return choose


#: ``choose`` returns this to fall through to the next step.
_NEXT = None
