"""The secondary MMUs of the 2008 thread: KVM, SGI's GRU and XPMEM.

They share one model of their mappings (an entry per virtual page, filled by a
fault path and zapped by notifier callbacks under the driver's lock) and
differ in what the thread argued about:

* ``kvm``: get_user_pages fills an spte once; from then on the CPU walks it in
  hardware (arch/x86/kvm/mmu.c).  Callbacks spin on ``kvm->mmu_lock``.
* ``gru``: an external TLB; every miss is refilled in software by walking the
  Linux page table (drivers/misc/sgi-gru/grufault.c, ``gru_try_dropin``:
  atomic_pte_lookup, no PTL, no page reference).  Callbacks flush the GRU
  TLB and do not sleep.  grufault.c: "The GRU contains magic hardware that
  eliminates races between TLB invalidates and TLB dropins. If an invalidate
  occurs in the window between reading the TFH and the subsequent TLB dropin,
  the dropin is ignored."  The model keeps that rule (``hardware_drop``).
* ``xpmem``: SGI's cross-partition memory (out of tree).  Pages are exported to
  other hosts; recalling them is a message exchange, so its callbacks *must
  sleep* (Robin Holt, <20080130161123.GS26420@sgi.com>).
* ``iommu``: a device behind an IOMMU that shares the process's page table
  (PCIe ATS/PASID: amd_iommu_v2 from 3.19, Intel SVM).  Its IOTLB is filled by
  the IOMMU walking the CPU page table in hardware, at any moment, with no
  lock and no check the driver could make; it learns of changes only through
  ``invalidate_range`` (Joerg Roedel, 2014: "called under the ptl spin-lock
  and not allowed to sleep").  The store-order example of
  Documentation/vm/mmu_notifier.rst is about such a device.

Everything that differs between them is a field of their :class:`Secondary`
record below: the names traces use, how the guest or device reaches a page,
how a miss is refilled, whether callbacks sleep, which locks the fault holds
in each era (:class:`FaultLocks`), and which of the cost model's assumptions
(:mod:`labkit.tables.costs`) an install and a flush cost.  Adding a fourth
secondary is one record here (and a test).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.messages import shown

HARDWARE_INVALIDATES = "gru_hw_invalidates"

#: How long a secondary's fault holds the process's mmap_sem for reading.
NO_MMAP_SEM = "none"      # a lockless walk: munmap's down_write does not keep it out
AROUND_WALK = "walk"      # down_read around the page lookup only; the install comes after up_read
WHOLE_FAULT = "fault"     # down_read before the lookup, up_read after the install (or after giving up)
MMAP_SEM_SPANS = (NO_MMAP_SEM, AROUND_WALK, WHOLE_FAULT)


@dataclass(frozen=True)
class FaultLocks:
    """What one secondary's fault holds in one era, and the source that says so.

    ``mmap_sem`` is one of :data:`MMAP_SEM_SPANS`.  Only munmap takes mmap_sem
    for writing in the model's scenarios, so it is there that the span decides
    what can interleave: a walk under down_read cannot see the ptes munmap is
    clearing, and a fault that holds it until the install cannot install
    anything munmap could free.
    """

    mmap_sem: str
    site: str            # the fault the era's walk stands for: function, file:line at a tag, or Message-ID

    def __post_init__(self):
        if self.mmap_sem not in MMAP_SEM_SPANS:
            raise ValueError(f"mmap_sem={shown(self.mmap_sem)} is not valid; choose one of: {', '.join(MMAP_SEM_SPANS)}")


@dataclass(frozen=True)
class Secondary:
    name: str
    entry: str           # what one mapping is called
    lock: str            # the driver's lock, as the traces name it (KVM's is real; the
                         # others stand for whatever serialises install against zap)
    callback_prefix: str  # driver callback = prefix + hook name
    fault: str           # the driver's fault (refill) function
    install: str         # the function that writes the entry
    zap: str             # the function that removes entries
    fault_site: str      # where the fault path was modelled from
    release: str         # how the fault drops a page reference it took
    sleeps: bool         # callbacks must be able to sleep
    refill: str          # how a miss is served, in plain words
    source: str
    access: str          # one use of a page through the entry, as traces name it
    access_site: str
    user: str            # who uses the entries, in sentences ("the guest", "the device")
    walker: str          # the fault's pte lookup when it takes no reference
    gup_release_site: str  # where refmode gup_release drops the reference after installing
    walks_in_hardware: bool  # after one software fill, hardware walks the entry on a miss (claim C1)
    install_cost: str    # the labkit.tables.costs.Costs field one install costs
    flush_cost: str      # the Costs field one flush of the entries costs
    asks_write: tuple = ()   # eras in which the fault asks get_user_pages for write (and so breaks COW first)
    translates_on_miss: bool = False   # a miss is filled by a hardware walk of the CPU page table (ATS)
    lockless_walk: bool = False        # the fault reads the pte with no PTL (the GRU's atomic_pte_lookup)
    refmodes: tuple = ()     # the reference modes it can have, if not every one
    schemes: tuple = ()      # the built-in schemes it can be driven by, if not every one (a scheme
                             # that declares ``requires`` decides for itself: schemes.drives)
    fault_locks: tuple = ()  # (era name, FaultLocks) for every era; none for a hardware walker
    #: GRU only: the hardware ignores a TLB dropin if an invalidate reached the
    #: GRU between reading the fault (TFH) and the dropin.  Modelled as a
    #: counter every flush bumps and the dropin compares.
    hardware_drop: bool = False

    @property
    def counters(self) -> tuple:
        return ((HARDWARE_INVALIDATES, 0),) if self.hardware_drop else ()

    def locks_in(self, era: str) -> FaultLocks:
        """What this secondary's fault holds in ``era`` (a hardware walk holds nothing a thread could)."""
        if self.translates_on_miss:
            return FaultLocks(NO_MMAP_SEM, self.fault_site)
        try:
            return dict(self.fault_locks)[era]
        except KeyError:
            raise ValueError(f"secondary {self.name!r} says nothing of its fault's locks in era {shown(era)}; "
                             f"it knows: {', '.join(name for name, _ in self.fault_locks)}") from None


KVM = Secondary(
    name="kvm",
    entry="spte",
    lock="kvm->mmu_lock",
    callback_prefix="kvm_mmu_notifier_",
    fault="tdp_page_fault",
    install="mmu_set_spte",
    zap="kvm_unmap_hva",
    fault_site="arch/x86/kvm/mmu.c tdp_page_fault / nonpaging_map (2.6.27)",
    release="kvm_release_pfn_clean -> put_page",
    sleeps=False,
    refill="once per spte by get_user_pages; afterwards the CPU walks the spte in hardware",
    source="virt/kvm/kvm_main.c, arch/x86/kvm/mmu.c (2.6.27)",
    access="vcpu_enter_guest: guest access, the CPU walks the spte in hardware",
    access_site="arch/x86/kvm/x86.c vcpu_enter_guest (the vCPU runs in guest mode)",
    user="the guest",
    walker="follow_page",
    gup_release_site="arch/x86/kvm/mmu.c mmu_set_spte (KVM, 2009: commit acb66dd051d0)",
    walks_in_hardware=True,
    install_cost="rmap_build",
    flush_cost="kvm_zap",
    # gfn_to_pfn: get_user_pages(..., write=1, ...) in 2.6.26 and get_user_pages_fast(addr, 1, 1, page) in
    # 2.6.28; from the 3.x hva_to_pfn a read fault maps a read-only page read-only (docs/kernel-sites.md).
    asks_write=("2008-01", "2.6.27"),
    fault_locks=(
        ("2008-01", FaultLocks(AROUND_WALK, (
            "KVM's fault of 2.6.26 and of the April 2008 notifier posting <20080427030514.GM9514@duo.random>: "
            "down_read(mmap_sem) around gfn_to_pfn -> get_user_pages, up_read before kvm->mmu_lock"))),
        ("2.6.27", FaultLocks(AROUND_WALK, (
            "arch/x86/kvm/mmu.c:1449-1457 tdp_page_fault, :1290-1299 nonpaging_map and paging_tmpl.h:410-422 "
            "FNAME(page_fault) at v2.6.27: down_read(mmap_sem); mmu_seq = mmu_notifier_seq; "
            "gfn_to_pfn -> get_user_pages (virt/kvm/kvm_main.c:729); up_read; then kvm->mmu_lock"))),
        ("2012", FaultLocks(NO_MMAP_SEM, (
            "virt/kvm/kvm_main.c:1059-1086 hva_to_pfn_fast at 3.7.2: __get_user_pages_fast, a lockless walk; "
            "the slow path (hva_to_pfn_slow, :1092-1129) takes mmap_sem (down_read around get_user_page_nowait, "
            "or get_user_pages_fast's own fallback).  The model's walk is the fast path; its slow path is the "
            "refault, which under munmap can only give up"))),
        ("2017", FaultLocks(NO_MMAP_SEM, (
            "virt/kvm/kvm_main.c:1340-1367 hva_to_pfn_fast at 4.13.4: __get_user_pages_fast, a lockless walk; "
            "the slow path (hva_to_pfn_slow, :1373) takes mmap_sem (down_read around get_user_page_nowait at "
            ":1385-1387, or get_user_pages_unlocked).  The model's walk is the fast path"))),
    ),
)

#: The GRU holds mmap_sem for reading through the whole dropin, from before the walk to the TLB dropin.
GRU_2_6_27 = ("drivers/misc/sgi-gru/grufault.c at v2.6.27: gru_find_lock_gts takes down_read(mmap_sem) (:77) and "
              "gru_unlock_gts drops it (:114) around gru_user_dropin's whole retry loop; gru_intr wraps "
              "gru_try_dropin in down_read_trylock/up_read (:444-446); the driver as posted in 2008")
GRU_LATER = ("drivers/misc/sgi-gru/grufault.c as in 2.6.27 (gru_find_lock_gts, gru_intr's down_read_trylock); "
             "at %s \"NOTE: mmap_sem is already held on entry to this function\" (atomic_pte_lookup)")

GRU = Secondary(
    name="gru",
    entry="GRU TLB entry",
    lock="gru lock",  # the model serialises dropin and flush like KVM's mmu_lock
    callback_prefix="gru_",
    fault="gru_try_dropin",
    install="tfh_write_restart (TLB dropin)",
    zap="gru_flush_tlb_range",
    fault_site="drivers/misc/sgi-gru/grufault.c gru_try_dropin (2008)",
    release="put_page",  # the GRU took no reference; only the lab's pin modes get here
    sleeps=False,
    refill="on every GRU TLB miss, in software, by walking the Linux page table",
    source="drivers/misc/sgi-gru/grufault.c, grutlbpurge.c (2.6.27/2.6.28)",
    access="GRU instruction: the GRU TLB translates the address",
    access_site="drivers/misc/sgi-gru (the GRU's hardware TLB)",
    user="the device",
    walker="atomic_pte_lookup",
    gup_release_site="drivers/misc/sgi-gru/grufault.c gru_try_dropin (2008)",
    walks_in_hardware=False,
    install_cost="gru_dropin",
    flush_cost="gru_tlb_invalidate",
    lockless_walk=True,
    hardware_drop=True,
    fault_locks=tuple((era, FaultLocks(WHOLE_FAULT, site)) for era, site in (
        ("2008-01", GRU_2_6_27), ("2.6.27", GRU_2_6_27), ("2012", GRU_LATER % "3.7.2: grufault.c:216"),
        ("2017", GRU_LATER % "4.13.4: grufault.c:215"))),
)

#: XPMEM as Lameter posted it on 1 Apr 2008 (the driver of SGI's 2008 patches): the exporting process's mmap_sem
#: is held for reading around xpmem_ensure_valid_PFNs (get_user_pages and the PFN table), and dropped before the
#: pfn goes back to __do_fault to be installed.
XPMEM_2008 = ("xpmem_fault_handler and xpmem_ensure_valid_PFNs, '[patch 8/9] XPMEM: The device driver' "
              "<20080401205637.474020250@sgi.com>: down_read(&seg_tg->mm->mmap_sem) around the pin, up_read "
              "before the pfn is returned for the install")
#: The later out-of-tree driver (hpc/xpmem) holds it from before the pin until remap_pfn_range has installed
#: the page.  The copies read are maintained for 4.11+ kernels; which version ran in 2012 is not verified.
XPMEM_LATER = ("xpmem_fault_handler of the hpc/xpmem driver (copies with 4.11/4.17 ifdefs): "
               "xpmem_mmap_read_lock(seg_tg->mm) before xpmem_ensure_valid_PFN, xpmem_mmap_read_unlock after "
               "remap_pfn_range; the 2012 and 2017 versions were not read")

XPMEM = Secondary(
    name="xpmem",
    entry="XPMEM remote mapping",
    lock="xpmem lock",  # a sleeping lock in XPMEM; the model serialises like KVM's mmu_lock
    callback_prefix="xpmem_",
    fault="xpmem_fault_handler",
    install="xpmem remote pte install",
    zap="xpmem recall (message to the remote host, waits for the answer)",
    fault_site="XPMEM fault handler (SGI patches, 2008, out of tree)",
    release="put_page",
    sleeps=True,
    refill="get_user_pages on a remote request; the remote host then maps the page itself",
    source="SGI XPMEM patches, Jan-Feb 2008 (out of tree); Robin Holt <20080130161123.GS26420@sgi.com>",
    access="xpmem remote access: the remote host uses the exported page",
    access_site="XPMEM remote mapping (out of tree)",
    user="the device",
    walker="follow_page",
    gup_release_site="XPMEM fault handler (SGI patches, 2008, out of tree)",
    walks_in_hardware=False,
    install_cost="gru_dropin",   # no public figure for a remote install: the same assumption as a GRU dropin
    flush_cost="kvm_zap",        # a recall message is not modelled in time; the nearest assumption
    # exported pages are written by the remote host: assumed to be looked up for write, like KVM's
    asks_write=("2008-01", "2.6.27", "2012", "2017"),
    fault_locks=(
        ("2008-01", FaultLocks(AROUND_WALK, XPMEM_2008)),
        ("2.6.27", FaultLocks(AROUND_WALK, XPMEM_2008)),
        ("2012", FaultLocks(WHOLE_FAULT, XPMEM_LATER)),
        ("2017", FaultLocks(WHOLE_FAULT, XPMEM_LATER)),
    ),
)

IOMMU = Secondary(
    name="iommu",
    entry="IOTLB entry",
    lock="iommu lock",   # the driver takes no lock on the fill path: the IOMMU walks the page table itself
    callback_prefix="mn_",
    fault="ATS translation request",
    install="IOTLB fill",
    zap="amd_iommu_flush_page (invalidate the IOTLB entry and wait for completion)",
    fault_site="the IOMMU's page-table walk (PCIe ATS/PASID: drivers/iommu/amd_iommu_v2.c, 3.19+)",
    release="put_page",
    sleeps=False,
    refill="on every IOTLB miss, in hardware, by walking the CPU page table",
    source="drivers/iommu/amd_iommu_v2.c mn_invalidate_range (3.19+); Documentation/vm/mmu_notifier.rst",
    access="DMA read: the device translates the address through its IOTLB",
    access_site="PCIe ATS: a device with an IOTLB sharing the process's page table (amd_iommu_v2, intel-svm)",
    user="the device",
    walker="the IOMMU's page-table walk",
    gup_release_site="drivers/iommu/amd_iommu_v2.c (3.19+)",
    walks_in_hardware=True,
    install_cost="hardware_walk",
    flush_cost="gru_tlb_invalidate",   # an IOTLB invalidation waits for completion: the nearest assumption
    translates_on_miss=True,
    refmodes=("off",),
    schemes=("none", "iotlb", "end_only"),
)

SECONDARIES = {s.name: s for s in (KVM, GRU, XPMEM, IOMMU)}
#: The three secondaries of the 2008 thread: the verdict matrix's columns.
THREAD_SECONDARIES = ("kvm", "gru", "xpmem")


def secondary_named(name) -> Secondary:
    """The record of ``name``; a clear error naming the choices otherwise."""
    try:
        return SECONDARIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"secondary={shown(name)} is not valid; choose one of: {', '.join(SECONDARIES)}") from None
