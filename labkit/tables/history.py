"""What Linux did after 2.6.27, as data and small tables for notebook 07.

``MILESTONES`` lists each later change with its source and how far it was
verified (docs/kernel-sites.md, items 8, 10 and 11), and the configuration of
the lab that shows it, where the model has one.  ``COW_STORE_ORDER`` is the
COW / store-order example of Documentation/vm/mmu_notifier.rst, copied
verbatim.  ``era_table`` and ``device_reads`` only arrange what ``explore``
and ``simulate`` return.
"""
from __future__ import annotations

from ..scenario import Scenario, build
from ..search.schedules import interleave
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
    ("2008", "mmu_notifier core merged (every callback under rcu_read_lock()); KVM's mmu_notifier_seq/count "
     "in a separate KVM commit", "Andrea Arcangeli", "commit cddb8a5c14aa (core); KVM: commit e930bffe95e1",
     "core commit dated 28 Jul 2008 (2.6.27 merge window); the KVM commit is cited in later kernel mail",
     "era='2.6.27', scheme='range_seq', refmode='pin'"),
    ("2009", "KVM: MMU: dont hold pagecount reference for mapped sptes pages", "Izik Eidus",
     "commit acb66dd051d0; <1238457604-7637-2-git-send-email-ieidus@redhat.com>",
     "author, commit, title; release 2.6.32 inferred, not tag-verified", "refmode='gup_release'"),
    ("2012", "SRCU dispatch: range_start/end may sleep (rmap locks already sleeping since 2011)",
     "Sagi Grimberg", "commit 21a92735", "commit dated 8 Oct 2012 (3.7 by date)", "era='2012'"),
    ("2014", "invalidate_range: called under the PTL, for IOMMUv2/ATS devices that walk the CPU page table",
     "Joerg Roedel", "<1406650693-23315-4-git-send-email-joro@8bytes.org>",
     "posting not seen (the Message-ID is from the brief); release not verified",
     "not modelled: no separate hook"),
    ("2017", "rmap calls range_start/end around the PTL section (COW already did, since 2012); "
     "invalidate_page removed", "Jérôme Glisse", "commits 369ea8242c0f (rmap), 5f32b265400d (removal)",
     "commits confirmed; release (4.13?) not verified", "era='2017'"),
    ("2019", "mmu_interval_notifier with mmu_interval_read_begin/read_retry", "Jason Gunthorpe",
     "series with Link 20191112202231.3856-15-jgg@ziepe.ca", "posting confirmed; release (5.5?) not verified",
     "a user scheme (this notebook)"),
    ("2023", "invalidate_range renamed arch_invalidate_secondary_tlbs", "Alistair Popple",
     "'[PATCH 1/4] mm_notifiers: Rename invalidate_range notifier', 18 Jul 2023",
     "posting confirmed; release (6.6?) not verified", "not modelled"),
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
    """One line per guest/device access: the page it used and the page the Linux pte mapped at that moment."""
    model = trace.model
    lines = []
    for number, move in enumerate(trace.moves, start=1):
        if move.step.kind != "access":
            continue
        before = trace.states[number - 1]
        vpage = model.guest_targets[before.threads[move.thread].pc]
        spte, pte = before.sptes[vpage], before.ptes[vpage]
        mapped = "nothing" if pte is None else model.page_names[pte]
        if spte is None:
            lines.append(f"step {number}: the device misses (it would fault and find {mapped})")
            continue
        used = model.page_names[spte.pfn]
        verdict = "the same page" if spte.pfn == pte else "an OLD page: the CPU's writes go elsewhere"
        lines.append(f"step {number}: the device reads {used} while the pte maps {mapped}: {verdict}")
    return lines


def cow_story(scenario: Scenario):
    """The document's story on the model: the device faults right after range_start, reads right after set_pte_at.

    With no range_start at the COW site (2.6.27's invalidate_page, or a
    page-only driver) the device faults before the COW begins.
    """
    steps = build(scenario).programs[0].steps
    start = max((n for n, step in enumerate(steps, start=1) if step.hook == "invalidate_range_start"), default=0)
    set_pte = next(n for n, step in enumerate(steps, start=1) if step.kind == "pte_set")
    return simulate(scenario, interleave(scenario, start, start, guest_after=set_pte))
