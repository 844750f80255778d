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
would.  A pte that is already gone means there is nothing to map
(get_user_pages fails: the vma or the page is gone).

GRU's atomic_pte_lookup reads the pte without the PTL.  The model reads it
under the PTL in every mode: a single read inside another thread's PTL section
sees the pte either before or after that section's clear, which the
interleavings already cover, so the lock changes no verdict, and it keeps one
fault path for every driver.
"""
from __future__ import annotations

from dataclasses import replace

from .locks import lock_mmu, lock_ptl, unlock_mmu, unlock_ptl
from .pages import get_page, put_page
from .program import DONE, Call, Step, link
from .secondary import HARDWARE_INVALIDATES
from .state import Spte, System, counter, local, with_local, with_spte

REFMODES = ("off", "pin", "gup_release", "off_under_ptl")

FOLLOW_PAGE = "mm/memory.c follow_page (2.6.27)"
GRU_FAULT = "drivers/misc/sgi-gru/grufault.c gru_try_dropin (2008): the NOTE on the dropin race"


def fault_program(name: str, vpage: int, scheme, secondary, refmode: str, attempts: int, mmap_sem: bool = False):
    """Build the fault thread for one vCPU (or one GRU context) faulting on ``vpage``.

    With ``mmap_sem`` the pte walk holds mmap_sem for reading (KVM's gfn_to_pfn:
    down_read, get_user_pages, up_read).  The GRU holds it through the whole
    dropin; the model releases it after the walk for every driver, which can
    only add interleavings.
    """
    takes_ref = refmode in ("pin", "gup_release")
    under_ptl = refmode == "off_under_ptl"
    walker = "get_user_pages -> follow_page" if takes_ref else (
        "atomic_pte_lookup" if secondary.name == "gru" else "follow_page")
    call = Call("fault", (vpage,), None, secondary.fault, secondary)
    site = secondary.fault_site

    begin = [template(call) for template in scheme.fault_begin]
    if secondary.hardware_drop:
        begin.insert(0, Step(f"{secondary.fault}: read the TFH (the hardware now watches for invalidates)",
                             _note_hardware_invalidates, GRU_FAULT, kind="read_begin"))
    early = scheme.fault_retry is not None and scheme.check_at == "begin"
    if early:
        begin.append(Step(f"{secondary.fault}: {scheme.retry_name}", _no_change, site, kind="check",
                          choose=_retry_if(scheme.fault_retry, "refused")))
    checks = (scheme.fault_retry is not None and not early) or secondary.hardware_drop
    steps = begin + [
        lock_ptl(f"{walker}: pte_offset_map_lock", FOLLOW_PAGE, mmap_sem=mmap_sem),
        Step(f"{walker}: read the pte", _reader(vpage), FOLLOW_PAGE, kind="pte_read",
             choose=_found_or("no_page")),
    ]
    steps[0] = replace(steps[0], label="begin")
    if takes_ref:
        steps.append(Step("follow_page(FOLL_GET): get_page", _take_reference, FOLLOW_PAGE, kind="get_page"))
    if not under_ptl:
        steps.append(unlock_ptl(f"{walker}: pte_unmap_unlock", FOLLOW_PAGE, mmap_sem=mmap_sem))
    steps.append(lock_mmu(f"{secondary.fault}: lock {secondary.lock}", site))
    if scheme.fault_retry is not None and not early:
        steps.append(Step(f"{secondary.fault}: {scheme.retry_name}", _no_change, site, kind="check",
                          choose=_retry_if(scheme.fault_retry)))
    if secondary.hardware_drop:
        steps.append(Step(f"{secondary.install}: dropin, ignored by the hardware if an invalidate came since the TFH",
                          _hardware_installer(vpage, refmode == "pin"), GRU_FAULT, kind="install",
                          choose=_retry_if(_hardware_dropped)))
    else:
        steps.append(Step(f"{secondary.install}: {secondary.entry} = pfn", _installer(vpage, refmode == "pin"),
                          f"{secondary.source}: {secondary.install}", kind="install"))
    if refmode == "gup_release":
        release_site = ("arch/x86/kvm/mmu.c mmu_set_spte (KVM, 2009: commit acb66dd051d0)"
                        if secondary.name == "kvm" else site)
        steps.append(Step(f"{secondary.install}: {secondary.release}", _release_reference, release_site,
                          kind="put_page"))
    if under_ptl:
        steps.append(unlock_mmu(f"{secondary.fault}: unlock {secondary.lock}", site))
        steps.append(unlock_ptl(f"{walker}: pte_unmap_unlock", FOLLOW_PAGE, choose=_done, mmap_sem=mmap_sem))
    else:
        steps.append(unlock_mmu(f"{secondary.fault}: unlock {secondary.lock}", site, choose=_done))

    if checks:
        steps += _retry_path(secondary, takes_ref, under_ptl, attempts, mmap_sem)
    if early:
        steps.append(Step(f"{secondary.fault}: refused, wait for range_end and fault again", _counting_attempt(_no_change),
                          site, kind="retry", label="refused",
                          choose=_again_if_below(attempts)))
    steps.append(unlock_ptl(f"{walker}: pte none, nothing to map: pte_unmap_unlock", FOLLOW_PAGE,
                            label="no_page", choose=_done, mmap_sem=mmap_sem))
    return link(name, steps)


def _retry_path(secondary, takes_ref: bool, under_ptl: bool, attempts: int, mmap_sem: bool = False) -> list:
    """out_unlock: drop the lock(s), release the reference, fault again (or give up)."""
    site = secondary.fault_site
    path = [unlock_mmu(f"{secondary.fault}: retry: unlock {secondary.lock}", site, label="retry")]
    if under_ptl:
        path.append(unlock_ptl("follow_page: retry: pte_unmap_unlock", FOLLOW_PAGE, mmap_sem=mmap_sem))
    if takes_ref:
        path.append(Step(f"{secondary.fault}: out_unlock: {secondary.release}", _release_reference,
                         site, kind="put_page"))
    last = path[-1]
    path[-1] = replace(last, run=_counting_attempt(last.run), choose=_again_if_below(attempts))
    return path


# -- step bodies ---------------------------------------------------------------

def _no_change(s: System, t: int) -> System:
    return s


def _done(s: System, t: int) -> str:
    return DONE


def _reader(vpage: int):
    def run(s: System, t: int) -> System:
        return with_local(s, t, pfn=s.ptes[vpage])
    return run


def _found_or(missing: str):
    def choose(s: System, t: int):
        return missing if local(s, t, "pfn") is None else _NEXT
    return choose


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
        s = with_spte(s, vpage, Spte(pfn, pinned))
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


def _again_if_below(attempts: int):
    def choose(s: System, t: int):
        return "begin" if local(s, t, "attempt") <= attempts else DONE
    return choose


#: ``choose`` returns this to fall through to the next step.
_NEXT = None
