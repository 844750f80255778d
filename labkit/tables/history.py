"""What Linux did after 2.6.27, as data and small tables for notebook 07.

``MILESTONES`` lists each later change with its source and how far it was
verified (docs/kernel-sites.md), and the configuration of the lab that shows
it, where the model has one.  ``COW_STORE_ORDER`` is the COW / store-order
example of Documentation/vm/mmu_notifier.rst, copied verbatim;
``store_order_story`` runs the same timeline on the model (``op="cow2"``).
``era_table`` and ``device_reads`` only arrange what ``explore`` and
``simulate`` return.
"""
from __future__ import annotations

from ..core.kinds import ACCESS
from ..core.state import mapped
from ..scenario import Scenario, build
from ..search.schedules import page_table_updated
from ..search.trace import simulate
from .stories import verdict_table

COW_SOURCE = ("Documentation/vm/mmu_notifier.rst, torvalds/linux at commit "
              "3c09ec59cdea5b132212d97154d625fd34e436dd (Jérôme Glisse)")

#: Verbatim from COW_SOURCE (two rows are labelled [Time N+3] in the original).
COW_STORE_ORDER = """\
 [Time N] --------------------------------------------------------------------
 CPU-thread-0  {try to write to addrA}
 CPU-thread-1  {try to write to addrB}
 CPU-thread-2  {}
 CPU-thread-3  {}
 DEV-thread-0  {read addrA and populate device TLB}
 DEV-thread-2  {read addrB and populate device TLB}
 [Time N+1] ------------------------------------------------------------------
 CPU-thread-0  {COW_step0: {mmu_notifier_invalidate_range_start(addrA)}}
 CPU-thread-1  {COW_step0: {mmu_notifier_invalidate_range_start(addrB)}}
 CPU-thread-2  {}
 CPU-thread-3  {}
 DEV-thread-0  {}
 DEV-thread-2  {}
 [Time N+2] ------------------------------------------------------------------
 CPU-thread-0  {COW_step1: {update page table to point to new page for addrA}}
 CPU-thread-1  {COW_step1: {update page table to point to new page for addrB}}
 CPU-thread-2  {}
 CPU-thread-3  {}
 DEV-thread-0  {}
 DEV-thread-2  {}
 [Time N+3] ------------------------------------------------------------------
 CPU-thread-0  {preempted}
 CPU-thread-1  {preempted}
 CPU-thread-2  {write to addrA which is a write to new page}
 CPU-thread-3  {}
 DEV-thread-0  {}
 DEV-thread-2  {}
 [Time N+3] ------------------------------------------------------------------
 CPU-thread-0  {preempted}
 CPU-thread-1  {preempted}
 CPU-thread-2  {}
 CPU-thread-3  {write to addrB which is a write to new page}
 DEV-thread-0  {}
 DEV-thread-2  {}
 [Time N+4] ------------------------------------------------------------------
 CPU-thread-0  {preempted}
 CPU-thread-1  {COW_step3: {mmu_notifier_invalidate_range_end(addrB)}}
 CPU-thread-2  {}
 CPU-thread-3  {}
 DEV-thread-0  {}
 DEV-thread-2  {}
 [Time N+5] ------------------------------------------------------------------
 CPU-thread-0  {preempted}
 CPU-thread-1  {}
 CPU-thread-2  {}
 CPU-thread-3  {}
 DEV-thread-0  {read addrA from old page}
 DEV-thread-2  {read addrB from new page}
"""

#: The document's own conclusion, verbatim.
COW_CONCLUSION = ("because at time N+2 the clear page table entry was not pair with a notification to "
                  "invalidate the secondary TLB, the device see the new value for addrB before seeing "
                  "the new value for addrA.")

#: year, change, who, source, what was verified, the lab configuration that shows it.
MILESTONES = (
    ("2008", "Lameter's January postings: every callback inside rcu_read_lock() (the rmap notifier too), though "
     "their text wanted XPMEM to sleep; range_begin after tlb_gather_mmu; COW bracketed by range_begin/end",
     "Christoph Lameter (range pair after Robin Holt)", "<20080125055801.212744875@sgi.com>, "
     "<20080130022944.236370194@sgi.com>, <20080201050623.344041545@sgi.com>",
     "the postings read (docs/kernel-sites.md item 18)", "era='2008-01'"),
    ("2008", "mmu_notifier core merged (every callback under rcu_read_lock()); KVM's mmu_notifier_seq/count "
     "in a separate KVM commit", "Andrea Arcangeli", "commit cddb8a5c14aa (core); KVM: commit e930bffe95e1",
     "core commit dated 28 Jul 2008 (2.6.27 merge window); the KVM commit is cited in later kernel mail",
     "era='2.6.27', scheme='range_seq', refmode='pin'"),
    ("2009", "KVM: MMU: dont hold pagecount reference for mapped sptes pages", "Izik Eidus",
     "commit acb66dd051d0; <1238457604-7637-2-git-send-email-ieidus@redhat.com>",
     "author, commit, title; release 2.6.32 inferred, not tag-verified", "refmode='gup_release'"),
    ("2012", "invalidate_page and the range callbacks outside the PT lock, and allowed to sleep (SRCU dispatch "
     "since 21a92735): reclaim's invalidate_page after pte_unmap_unlock, COW bracketed by range_start/end; "
     "clear_flush_young and change_pte stay under the PT lock",
     "Sagi Grimberg, Haggai Eran", "commits 2ec74c3ef2d8, 6bdb913f0a70; postings of 6 Sep 2012",
     "patches read; mm/rmap.c, mm/memory.c, mm/mmu_notifier.c read at 3.7.2 (docs/kernel-sites.md item 12)",
     "era='2012'"),
    ("2014", "invalidate_range: under the PTL and before an mmu_gather frees, for IOMMUv2/ATS devices that walk "
     "the CPU page table", "Joerg Roedel", "commits 1897bdc4d331, 34ee645e83b6; "
     "<1406212541-25975-2-git-send-email-joro@8bytes.org>",
     "patches read; the header's \"called under the ptl\" is in 3.19.8 (include/linux/mmu_notifier.h:161), "
     "not in 3.7.2",
     "secondary='iommu', scheme='iotlb', era='2017'"),
    ("2017", "4.11: try_to_unmap_one's invalidate_page back under the PTL (an unintended side effect that broke "
     "drivers that slept in it)", "Kirill Shutemov", "commit c7ab0d2fdc84",
     "patch and Andrew Morton's statement read; 4.10.17 calls it after pte_unmap_unlock (mm/rmap.c:1583-1585), "
     "4.11.0 inside the page_vma_mapped_walk loop (mm/rmap.c:1459)",
     "the 2.6.27 placement (era='2.6.27')"),
    ("2017", "4.13: invalidate_page removed; rmap brackets its walk with range_start/end and calls "
     "invalidate_range under the PTL", "Jérôme Glisse", "commits 369ea8242c0f (rmap), 5f32b265400d (removal)",
     "patches and cover letter read; mm/rmap.c read at 4.13.4 (range_start :1360, invalidate_range :1518)",
     "era='2017'"),
    ("2019", "mmu_interval_notifier with mmu_interval_read_begin/read_retry", "Jason Gunthorpe",
     "commit 99cb252f5e68; series with Link 20191112202231.3856-15-jgg@ziepe.ca",
     "mm/mmu_notifier.c of 5.5 read; 5.5 from a git describe string", "scheme='interval'"),
    ("2023", "invalidate_range renamed arch_invalidate_secondary_tlbs", "Alistair Popple",
     "'[PATCH 1/4] mm_notifiers: Rename invalidate_range notifier', 18 Jul 2023",
     "posting confirmed; release (6.6?) not verified", "not modelled (a rename)"),
    ("2024", "change_pte removed", "Paolo Bonzini", "<20240405115815.3226315-2-pbonzini@redhat.com>",
     "posting confirmed; release (6.10 more likely than 6.9) not verified", "not modelled (no change_pte in 2.6.27)"),
)


def milestones():
    """MILESTONES as a DataFrame, one row per change."""
    import pandas as pd

    columns = ["year", "change", "who", "source", "verified", "in the lab"]
    return pd.DataFrame(list(MILESTONES), columns=columns)


def era_table(configurations, **fixed):
    """``compare.verdict_table`` with an era column."""
    return verdict_table(configurations, columns=("era",), **fixed)


def device_reads(trace) -> list:
    """One line per guest/device access: the page it used, the page the pte maps, and whose store it read."""
    model = trace.model
    lines = []
    for number, move in enumerate(trace.moves, start=1):
        if move.step.kind != ACCESS:
            continue
        before = trace.states[number - 1]
        vpage = model.guest_targets[before.threads[move.thread].pc]
        spte, current = move.after.sptes[vpage], mapped(before.ptes[vpage])
        where = "nothing" if current is None else model.page_names[current]
        if spte is None:
            lines.append(f"step {number}: the device misses on address {vpage} (it would fault and find {where})")
            continue
        value = before.pages[spte.pfn].value
        data = f"store {value}" if value else "no store yet"
        verdict = "the current page" if spte.pfn == current else "an OLD page"
        lines.append(f"step {number}: the device reads address {vpage} from {model.page_names[spte.pfn]} ({data}) "
                     f"while the pte maps {where}: {verdict}")
    return lines


def store_order_story(scenario: Scenario):
    """The documentation's timeline on ``cow2``: [Time N] the device fills A; [N+1, N+2] both COWs re-point
    their ptes; [N+3] the CPU stores to A, then B; [N+4] COW B finishes (range_end B); [N+5] the device reads
    B, then A; COW A's thread, preempted, finishes last."""
    if scenario.op != "cow2":
        raise ValueError(f"the store-order story needs op='cow2' (two COWs and a CPU writer), not {scenario.op!r}")
    model = build(scenario)
    up_to_set_pte = {name: page_table_updated(model.programs[model.index(name)].steps) for name in ("vm", "vm2")}
    rest = {name: len(model.programs[model.index(name)].steps) - up_to_set_pte[name] for name in ("vm", "vm2")}
    reads = len(model.programs[model.index("guest")].steps)
    schedule = (["fault"] + ["vm"] * up_to_set_pte["vm"] + ["vm2"] * up_to_set_pte["vm2"] + ["cpu", "cpu"]
                + ["vm2"] * rest["vm2"] + ["guest"] * reads + ["vm"] * rest["vm"])
    return simulate(scenario, schedule)
