"""The eras around 2.6.27, the callers of unmap_vmas, reclaim's swap entry and the documentation's COW example,
as specifications.  The kernel sources behind each are in docs/kernel-sites.md."""
import pytest

import labkit
from labkit import Scenario, explore, interleave, kernel_note, simulate, vm_length
from labkit.kernel.eras import ERAS


def vm_actions(scenario):
    return [step.action for step in labkit.build(scenario).programs[0].steps]


def position(scenario, text):
    """How many VM steps run before the first step whose action contains ``text``."""
    return next(i for i, action in enumerate(vm_actions(scenario)) if text in action)


# -- callers of unmap_vmas -----------------------------------------------------------------

@pytest.mark.parametrize("scheme, refmode, broken", [
    ("range", "off", {"use_after_free", "stale"}),      # C4: nothing but a reference protects the page
    ("range", "pin", {"stale"}),                        # the page lives; the entry outlives the mapping
    ("range_block", "off", {"use_after_free", "stale"}),
    ("range_seq", "off", set()),                        # what 2.6.27 merged for KVM
    ("range_seq", "gup_release", set()),                # KVM from 2009
])
def test_the_thread_s_verdicts_hold_under_madvise_the_default_racing_caller(scheme, refmode, broken):
    result = explore(Scenario(op="zap", scheme=scheme, refmode=refmode))
    assert result.scenario.caller == "madv_dontneed"
    assert {name for name, hit in result.violated.items() if hit} == broken


def test_madvise_holds_mmap_sem_for_reading_and_leaves_the_vma_so_a_later_fault_gets_a_new_page():
    scenario = Scenario(op="zap", scheme="range_seq", refmode="pin")
    assert vm_actions(scenario)[0] == "sys_madvise(MADV_DONTNEED): down_read(mmap_sem)"
    trace = simulate(scenario, interleave(scenario, vm_length(scenario), vm_length(scenario)))
    final = trace.final
    assert final.ptes[0].pfn == 1 and final.sptes[0].pfn == 1       # do_anonymous_page: the new page N
    assert final.pages[0].state in ("free", "reused") and trace.violated() == ()
    assert any(move.step.kind == "refault" for move in trace.moves)


def test_truncate_frees_a_page_cache_page_only_after_range_end():
    """The page cache holds its reference through the unmap; truncate_inode_pages drops it after range_end."""
    scenario = Scenario(op="zap", scheme="range", refmode="off", caller="truncate")
    trace = simulate(scenario, "in_order")
    freed = next(i for i, move in enumerate(trace.moves) if move.after.pages[0].state == "free")
    ended = max(i for i, move in enumerate(trace.moves) if move.step.hook == "invalidate_range_end")
    assert freed > ended and trace.moves[freed].step.action.startswith("truncate_inode_pages")
    assert "spin_lock(&mapping->i_mmap_lock)" in vm_actions(scenario)[0]


def range_start_context(scenario):
    """Why unmap_vmas' range_start cannot sleep in ``scenario`` (None: it may)."""
    return next(step.atomic for step in labkit.build(scenario).programs[0].steps
                if step.calls == "invalidate_range_start")


def test_truncate_s_range_callbacks_run_under_a_spinlock_until_i_mmap_lock_became_a_mutex():
    """unmap_mapping_range takes spin_lock(&mapping->i_mmap_lock) (mm/memory.c:2145 at v2.6.27); a mutex from
    3.0 (mutex_lock(&mapping->i_mmap_mutex), mm/memory.c:2849 at 3.0.8, 2903 at 3.7.2); i_mmap_lock_write, the
    i_mmap_rwsem, in 4.13 (mm/memory.c:2689 at 4.13.4)."""
    truncate = Scenario(op="zap", scheme="range_seq", refmode="pin", secondary="xpmem", caller="truncate")
    for era, lock in (("2008-01", "spin_lock(&mapping->i_mmap_lock)"), ("2.6.27", "spin_lock(&mapping->i_mmap_lock)"),
                      ("2012", "mutex_lock(&mapping->i_mmap_mutex)"), ("2017", "i_mmap_lock_write(mapping)")):
        scenario = truncate.replace(era=era)
        assert lock in vm_actions(scenario)[0], era
        spinlock = "i_mmap_lock (a spinlock" in (range_start_context(scenario) or "")
        assert spinlock is (era in ("2008-01", "2.6.27")), era
    assert not explore(truncate.replace(era="2012")).violated["sleep_in_atomic"]


def test_munmap_keeps_the_fault_out_in_2_6_27_but_not_with_the_lockless_walk_of_2012():
    """A fault that reads the pte after range_start: mmap_sem blocks it in 2.6.27 (down_read(mmap_sem) around
    gfn_to_pfn -> get_user_pages: arch/x86/kvm/mmu.c:1290-1299 and paging_tmpl.h:410-422 at v2.6.27,
    virt/kvm/kvm_main.c:729); 3.7's hva_to_pfn_fast walks with __get_user_pages_fast and no mmap_sem
    (virt/kvm/kvm_main.c:1059-1086 at 3.7.2), so in 2012 it reads the pte inside munmap.  The slow path,
    hva_to_pfn_slow, takes mmap_sem; the model's slow path is the refault, which under munmap gives up."""
    munmap = Scenario(op="zap", scheme="range", refmode="off", caller="munmap")
    inside = position(munmap, "zap_pte_range: pte_offset_map_lock")       # after range_start, before the clear
    free = position(munmap, "tlb_finish_mmu") + 1
    assert simulate(munmap, interleave(munmap, inside, free)).violated() == ()
    lockless = munmap.replace(era="2012")
    assert "use_after_free" in simulate(lockless, interleave(lockless, inside, free)).violated()


# -- reclaim ---------------------------------------------------------------------------------

def test_reclaim_leaves_a_swap_entry_and_a_fault_maps_the_same_page_while_it_is_in_the_swap_cache():
    scenario = Scenario(op="rmap", scheme="page_seq", refmode="pin")
    freeze = position(scenario, "page_freeze_refs")
    unmapped = simulate(scenario, ["vm"] * freeze)
    assert unmapped.final.ptes[0].swapped and unmapped.final.pages[0].cached
    trace = simulate(scenario, interleave(scenario, freeze - 1, vm_length(scenario)))
    assert trace.violated() == ()


def test_a_pin_defeats_reclaim_and_kvm_s_sequence_check_does_not():
    """page_freeze_refs(page, 2) fails while an spte pins the page (KVM before notifiers, or a driver that
    can install after invalidate_page); KVM's mmu_notifier_seq keeps the install from happening."""
    for scheme, defeated in (("none", True), ("page", True), ("page_seq", False), ("range_seq", False)):
        result = explore(Scenario(op="rmap", scheme=scheme, refmode="pin"))
        assert result.violated["reclaim_defeated"] is defeated, scheme
        assert not result.violated["use_after_free"] and not result.violated["stale"], scheme
    assert labkit.core.invariants.invariant("reclaim_defeated").outcome


# -- where each era calls the hooks -------------------------------------------------------------

def test_2012_notifies_rmap_after_the_pte_unlock_and_2017_brackets_it():
    old, unlocked, bracket = (Scenario(op="rmap", scheme="range_seq", refmode="off", era=era)
                              for era in ("2.6.27", "2012", "2017"))
    actions = vm_actions(old)
    assert actions.index("kvm_mmu_notifier_invalidate_page: lock kvm->mmu_lock") < \
        actions.index("try_to_unmap_one: pte_unmap_unlock")
    actions = vm_actions(unlocked)
    assert actions.index("kvm_mmu_notifier_invalidate_page: lock kvm->mmu_lock") > \
        actions.index("try_to_unmap_one: pte_unmap_unlock")
    actions = vm_actions(bracket)
    assert not any("invalidate_page" in action for action in actions)
    assert actions.index("kvm_mmu_notifier_invalidate_range_start: lock kvm->mmu_lock") < \
        actions.index("try_to_unmap_one: page_check_address (takes the PTL)")


def test_2012_cow_copies_before_range_start_and_releases_the_old_page_after_range_end():
    actions = vm_actions(Scenario(op="cow", scheme="range_seq", refmode="pin", era="2012"))
    copy = actions.index("do_wp_page: alloc_page_vma, cow_user_page (copy to the new page)")
    start = actions.index("kvm_mmu_notifier_invalidate_range_start: lock kvm->mmu_lock")
    end = max(i for i, action in enumerate(actions) if "invalidate_range_end" in action)
    release = next(i for i, action in enumerate(actions) if "the reference taken above" in action)
    assert copy < start and release > end


def test_an_xpmem_sleeping_lock_taken_under_the_ptl_is_flagged():
    """off_under_ptl installs while holding the PTL; XPMEM's lock is a sleeping lock."""
    result = explore(Scenario(op="zap", scheme="none", refmode="off_under_ptl", secondary="xpmem"))
    assert result.violated["sleep_in_atomic"]
    trace = simulate(result.scenario, result.shortest["sleep_in_atomic"])
    assert trace.moves[-1].step.action.startswith("xpmem_fault_handler: lock xpmem lock")
    assert not explore(result.scenario.replace(refmode="off")).violated["sleep_in_atomic"]


def test_every_era_cites_where_it_starts_and_every_software_fault_names_its_locks_in_it():
    for era in ERAS.values():
        assert era.source and era.summary
        for secondary in labkit.SECONDARIES.values():
            assert secondary.locks_in(era.name).site, (secondary.name, era.name)
    assert "2ec74c3ef2d8" in ERAS["2012"].source and "369ea8242c0f" in ERAS["2017"].source


@pytest.mark.parametrize("args, words", [
    (("rmap", "range_block", "2012"), "after the PTL is dropped"),
    (("rmap", "range_block", "2.6.27"), "under the PTL"),
    (("cow", "page", "2012"), "never told"),
    (("rmap", "page", "2008-01", "xpmem"), "Lameter's rmap notifier"),
    (("zap", "iotlb", "2.6.27"), "from 3.19"),
])
def test_kernel_notes_say_where_each_era_calls_the_hook(args, words):
    assert words in kernel_note(*args)


# -- the documentation's store-order example --------------------------------------------------

STORE_ORDER = dict(op="cow2", refmode="off", secondary="iommu", era="2017")


def test_a_device_told_only_at_range_end_sees_a_newer_store_before_an_older_one():
    """Documentation/vm/mmu_notifier.rst: the clear of A was not paired with a notification, so the device
    reads B's new value and A's old one."""
    result = explore(Scenario(scheme="end_only", **STORE_ORDER))
    assert result.complete and result.violated["store_order"]
    trace = simulate(result.scenario, result.shortest["store_order"])
    assert trace.violations[-1] == ("store_order",)
    reads = [move for move in trace.moves if move.step.kind == "access"]
    assert [trace.model.guest_targets[i] for i in range(len(reads))] == [1, 0]     # B, then A
    assert result.states < 5000


def test_invalidate_range_under_the_ptl_makes_the_store_order_violation_impossible():
    result = explore(Scenario(scheme="iotlb", **STORE_ORDER))
    assert result.complete and not any(result.violated.values()), result.summary()
    before = explore(Scenario(scheme="iotlb", **{**STORE_ORDER, "era": "2012"}))
    assert before.violated["store_order"], "no invalidate_range before 3.19: the device is never told"


def test_a_device_told_only_at_range_end_can_use_a_page_the_mmu_gather_already_freed():
    """Roedel, 2014: "the _end() notifier is called when all pages are potentially unmapped and already
    freed" -- why invalidate_range is called before an mmu_gather frees its batch."""
    assert explore(Scenario(op="zap", scheme="end_only", refmode="off", secondary="iommu",
                            era="2017")).violated["use_after_free"]
    assert not any(explore(Scenario(op="zap", scheme="iotlb", refmode="off", secondary="iommu",
                                    era="2017")).violated.values())


@pytest.mark.parametrize("op", ["zap", "rmap", "cow"])
def test_the_interval_notifier_of_5_5_is_safe_without_a_page_reference(op):
    for era in ("2.6.27", "2017"):
        result = explore(Scenario(op=op, scheme="interval", refmode="off", era=era))
        assert not any(result.violated.values()), result.summary()


# -- January 2008 as posted --------------------------------------------------------------------

def runs_a_callback(scenario) -> bool:
    """Some thread other than the faults calls one of the secondary's notifier callbacks."""
    model = labkit.build(scenario)
    return any(step.calls for name, program in zip(model.names, model.programs) if not name.startswith("fault")
               for step in program.steps)


def test_2008_01_xpmem_callbacks_cannot_sleep_under_rcu():
    """Lameter's core patches run every callback inside rcu_read_lock(), mmu_notifier() and mmu_rmap_notifier()
    alike: 24 Jan <20080125055801.212744875@sgi.com>, 29 Jan <20080130022944.236370194@sgi.com>, 31 Jan
    <20080201050623.112641539@sgi.com> (mmu_notifier) and <20080201050623.817624793@sgi.com>
    (mmu_rmap_notifier).  Their text wished for sleeping callbacks ("We can sleep if atomic == 0"; the rmap
    notifier "is outside of locks ... and able to sleep"), which XPMEM needed (Robin Holt
    <20080130161123.GS26420@sgi.com>); the code did not let it.  Every zap, rmap and COW row of
    ``verdicts --era 2008-01 --secondary xpmem`` in which an XPMEM callback runs says so."""
    table = labkit.verdicts(secondaries="xpmem", era="2008-01")
    called = 0
    for row in table.to_dict("records"):
        scenario = Scenario(op=row["op"], scheme=row["scheme"], refmode=row["refmode"], secondary="xpmem",
                            era="2008-01")
        if runs_a_callback(scenario):
            called += 1
            assert row["sleep_in_atomic"] == "yes", scenario.label()
    assert called >= 3 * 3 * 4      # range, range_block, range_seq in zap, rmap and cow, every refmode


def test_2008_01_rmap_notifier_runs_inside_rcu_read_lock():
    """try_to_unmap calls mmu_rmap_notifier(invalidate_page, page) after the Linux rmaps were walked, with the
    page lock held and no spinlock (<20080128202924.095881796@sgi.com>), but inside rcu_read_lock()."""
    scenario = Scenario(op="rmap", scheme="page", refmode="pin", secondary="xpmem", era="2008-01")
    notifier = [step for step in labkit.build(scenario).programs[0].steps
                if step.action.startswith("mmu_rmap_notifier -> ")]
    assert notifier and all("rcu_read_lock()" in step.atomic for step in notifier)
    assert "page lock held, no spinlock" in notifier[0].site


def test_2008_01_range_begin_runs_right_after_tlb_gather_mmu_with_preemption_off():
    """The 31 Jan range patch <20080201050623.344041545@sgi.com> calls invalidate_range_begin right after
    tlb_gather_mmu in zap_page_range and unmap_region (get_cpu_var: preemption off) and invalidate_range_end
    after tlb_finish_mmu (put_cpu_var), both inside mmu_notifier()'s rcu_read_lock()."""
    scenario = Scenario(op="zap", scheme="range", refmode="off", era="2008-01")
    start = range_start_context(scenario)
    assert "rcu_read_lock()" in start and "preemption off" in start and "tlb_gather_mmu" in start
    end = next(step.atomic for step in labkit.build(scenario).programs[0].steps
               if step.calls == "invalidate_range_end")
    assert "rcu_read_lock()" in end and "preemption off" not in end


def test_2_6_27_range_start_runs_with_preemption_off_not_only_under_rcu():
    """unmap_vmas calls range_start (mm/memory.c:904 at v2.6.27) inside the caller's mmu_gather, taken by
    tlb_gather_mmu with get_cpu_var (include/asm-generic/tlb.h:56), and range_end (:969) before the caller's
    tlb_finish_mmu; every callback is also under rcu_read_lock() (mm/mmu_notifier.c:122, 136).  From 3.7 the
    dispatch is SRCU and the mmu_gather preemptible: nothing keeps range_start atomic."""
    merged = range_start_context(Scenario(op="zap", scheme="range", refmode="off"))
    assert "rcu_read_lock()" in merged and "preemption off" in merged
    assert range_start_context(Scenario(op="zap", scheme="range", refmode="off", era="2012")) is None


def test_2008_01_cow_is_bracketed_as_in_the_31_jan_range_patch():
    """do_wp_page in <20080201050623.344041545@sgi.com> ("idea by Robin Holt"): invalidate_range_begin after
    cow_user_page, before the PTL is taken again ("Re-check the pte - we dropped the lock"), and
    invalidate_range_end after pte_unmap_unlock: the order 3.7 later merged.  The 28 Jan version's single
    invalidate_range before pte_offset_map_lock (quoted in <20080129162004.GL7233@v2.random>) is not modelled."""
    trace = simulate(Scenario(op="cow", scheme="range_block", refmode="off", era="2008-01"), "in_order")
    vm = [move.step for move in trace.moves if move.thread == 0]
    actions = [step.action for step in vm]
    locks = [i for i, action in enumerate(actions) if "pte_offset_map_lock" in action]
    unlocks = [i for i, action in enumerate(actions) if "pte_unmap_unlock" in action]
    start = next(i for i, step in enumerate(vm) if step.calls == "invalidate_range_start")
    end = next(i for i, step in enumerate(vm) if step.calls == "invalidate_range_end")
    copy = next(i for i, action in enumerate(actions) if "cow_user_page" in action)
    assert len(locks) == 2 and copy < start < locks[1]
    assert end > unlocks[-1]
    assert "ptep_clear_flush (" in actions[locks[1] + 1]                      # no invalidate_page in do_wp_page


def test_2008_01_cow_never_tells_a_page_only_driver():
    """The 31 Jan postings call invalidate_page from try_to_unmap_one and page_mkclean_one only
    (<20080201050623.571690348@sgi.com>); do_wp_page has the range pair and nothing else."""
    assert "never told" in kernel_note("cow", "page", "2008-01")
    assert "under the PTL" in kernel_note("rmap", "range_block", "2008-01")


# -- the fault's locks: the secondary's and the era's together ---------------------------------

def test_gru_holds_mmap_sem_through_the_whole_dropin_in_every_era():
    """grufault.c at v2.6.27: gru_find_lock_gts takes down_read(mmap_sem) (:77) and gru_unlock_gts drops it
    (:114) around gru_user_dropin's whole retry loop; gru_intr wraps gru_try_dropin in down_read_trylock and
    up_read (:444-446).  At 3.7.2 (:216) and 4.13.4 (:215): "NOTE: mmap_sem is already held on entry to this
    function".  Under munmap the model's GRU fault takes mmap_sem first and drops it last."""
    for era in ERAS:
        assert labkit.SECONDARIES["gru"].locks_in(era).mmap_sem == "fault", era
        scenario = Scenario(op="zap", scheme="gru", refmode="off", secondary="gru", era=era, caller="munmap")
        model = labkit.build(scenario)
        steps = model.programs[model.index("fault")].steps
        assert "down_read(mmap_sem)" in steps[0].action and "up_read(mmap_sem)" in steps[-1].action, era
        assert "no PTL" in next(step.action for step in steps if step.kind == "pte_read")   # still lockless


@pytest.mark.parametrize("era", ["2.6.27", "2012", "2017"])
def test_munmap_cannot_race_the_gru_s_dropin_in_any_era(era):
    """``verdicts --era E --op zap --caller munmap --secondary gru --scheme range,range_block --refmode off``:
    no use after free in 2012 and 2017, as in 2.6.27, because the GRU's dropin holds mmap_sem (above)."""
    table = labkit.verdicts(ops="zap", schemes=("range", "range_block"), refmodes="off", secondaries="gru",
                            era=era, caller="munmap")
    assert list(table["use_after_free"]) == ["no", "no"]


def test_xpmem_holds_the_exporting_mm_s_mmap_sem_as_its_sources_say():
    """As posted on 1 Apr 2008 (<20080401205637.474020250@sgi.com>, xpmem_fault_handler and
    xpmem_ensure_valid_PFNs) XPMEM takes the exporting process's mmap_sem for reading around the pin and drops it
    before the pfn is installed; the later hpc/xpmem driver holds it until remap_pfn_range has installed the
    page.  Which version ran in 2012 and 2017 is not verified (docs/kernel-sites.md)."""
    xpmem = labkit.SECONDARIES["xpmem"]
    assert [xpmem.locks_in(era).mmap_sem for era in ERAS] == ["walk", "walk", "fault", "fault"]
    assert "<20080401205637.474020250@sgi.com>" in xpmem.locks_in("2008-01").site


def test_kvm_s_fault_walks_under_mmap_sem_until_2_6_27_and_on_a_lockless_fast_path_from_3_7():
    kvm = labkit.SECONDARIES["kvm"]
    assert [kvm.locks_in(era).mmap_sem for era in ERAS] == ["walk", "walk", "none", "none"]
    assert "hva_to_pfn_slow" in kvm.locks_in("2012").site and "takes mmap_sem" in kvm.locks_in("2017").site


# -- reclaim's fault, and the 2012 window -----------------------------------------------------

def test_the_fault_s_swap_cache_reference_defeats_page_freeze_refs_so_the_same_page_is_mapped_again():
    """do_swap_page takes its reference with lookup_swap_cache (find_get_page) before lock_page (mm/memory.c:2269
    and 2298 at v2.6.27; :2946 and :2976 at 3.7.2).  In 2012's post-unlock window (between try_to_unmap_one's
    pte_unmap_unlock and invalidate_page) a fault that finds the swap entry holds that reference while reclaim
    still holds the page lock: page_freeze_refs(page, 2) fails, the page stays in the swap cache and the fault
    maps the same page P again.  Harmless, as Arcangeli said ("we even hold the page lock there")."""
    scenario = Scenario(op="rmap", scheme="page_seq", refmode="off", era="2012")
    actions = vm_actions(scenario)
    window = actions.index("try_to_unmap_one: pte_unmap_unlock") + 1
    trace = simulate(scenario, interleave(scenario, window, window))     # the fault runs until lock_page waits
    moves = [move.step.action for move in trace.moves]
    lookup = next(i for i, action in enumerate(moves) if "lookup_swap_cache" in action)
    freeze = next(i for i, action in enumerate(moves) if "page_freeze_refs" in action)
    assert lookup < freeze
    assert trace.states[freeze + 1].pages[0].state == "in_use"          # kept, not freed
    final = trace.final
    assert final.ptes[0].pfn == 0 and not final.ptes[0].swapped and final.sptes[0].pfn == 0
    assert final.pages[0].cached and trace.violated() == ()


def test_3_7_keeps_clear_flush_young_and_change_pte_under_the_ptl():
    """2ec74c3ef2d8 moved invalidate_page out from under the PTL, not every notification: page_referenced_one
    still calls ptep_clear_flush_young_notify under page_check_address's PTL (mm/rmap.c:692-703 at 3.7.2) and
    do_wp_page calls set_pte_at_notify (change_pte) under the PTL (mm/memory.c:2746)."""
    summary = ERAS["2012"].summary
    assert "clear_flush_young and change_pte stay under the PTL" in summary
    assert "every notification" not in summary


def test_2_6_27_s_kvm_fault_says_implicit_mb_where_later_kernels_say_smp_rmb():
    """arch/x86/kvm/mmu.c:1455 at v2.6.27: ``/* implicit mb(), we'll read before PT lock is unlocked */``."""
    model = labkit.build(Scenario(op="zap", scheme="range_seq", refmode="pin"))
    read = model.programs[model.index("fault")].steps[0]
    assert "implicit mb()" in read.site and "smp_rmb()" not in read.action


@pytest.mark.parametrize("era", ["2012", "2017"])
def test_the_interval_notifier_stays_odd_while_two_copy_on_writes_overlap(era):
    """mm/mmu_notifier.c (5.5): mn_itree_inv_start_range does ``seq |= 1`` and counts the active
    invalidations; mn_itree_inv_end makes the sequence even (``seq++``) only when the last one ends.
    So with the documentation's two overlapping COWs, a fault cannot begin a read between them."""
    result = explore(Scenario(op="cow2", scheme="interval", refmode="off", secondary="kvm", era=era))
    assert result.complete and result.found("yes") == ()
    scenario = Scenario(op="cow2", scheme="interval", refmode="off", era=era)
    everything = vm_length(scenario)          # the placement overlaps the two COWs, as the example does
    trace = simulate(scenario, interleave(scenario, everything, everything))
    seq = [dict(state.counters)["invalidate_seq"] for state in trace.states]
    active = [dict(state.counters)["active_invalidate_ranges"] for state in trace.states]
    assert max(active) == 2
    assert all(value % 2 == 1 for value, running in zip(seq, active) if running)
    assert (seq[0], seq[-1]) == (2, 4)
