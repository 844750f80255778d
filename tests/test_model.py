"""The thread's argument, as executable specifications of the model.

Schedules are built with ``interleave`` where the story is "the fault reads
the pte after k VM steps and installs after m", so that the same story can be
told under two configurations; explicit thread lists are used where the exact
order is the point.
"""
import pytest

import labkit
from labkit import Scenario, simulate
from labkit.core.engine import alone, named, run
from labkit.core.state import FREE, IN_USE
from labkit.search.schedules import interleave, vm_length
from labkit.search.verdicts import configurations
from labkit.tables.narrate import events, status


def whole_window(scenario):
    """The fault reads the pte before the VM starts and installs after the VM has finished."""
    return interleave(scenario, 0, vm_length(scenario))


def after_range_start(model) -> int:
    """How many VM steps run up to the end of invalidate_range_start (madvise's down_read comes first)."""
    steps = model.programs[0].steps
    return max(i for i, step in enumerate(steps, start=1) if step.hook == "invalidate_range_start")


def test_range_without_refcount_lets_guest_touch_freed_page():
    """Arcangeli (C4): with range_end after the page is released, nothing but a reference protects it."""
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    trace = simulate(scenario, whole_window(scenario))
    assert "use_after_free" in trace.violated()
    step = trace.first_violation("use_after_free")
    assert trace.moves[step - 1].step.kind == "access"
    assert "was freed at step" in status(trace, step)


def test_same_schedule_with_pin_is_safe_from_use_after_free_but_leaves_a_stale_spte():
    """The spte's reference keeps the page alive; range_end ran before the install, so nothing zaps it."""
    scenario = Scenario(op="zap", scheme="range", refmode="pin")
    trace = simulate(scenario, whole_window(scenario))
    assert "use_after_free" not in trace.violated()
    assert trace.violated() == ("stale",)
    assert trace.final.pages[0].state == IN_USE and trace.final.pages[0].refcount == 1


def test_the_canonical_schedule_as_thread_names():
    """madvise(MADV_DONTNEED): down_read, range_start (3 steps), PTL, clear, unlock, free, range_end (3), up_read."""
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    schedule = "fault,fault,fault,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,vm,fault,fault,fault,guest"
    trace = simulate(scenario, schedule)
    assert trace.violations[-1] == ("use_after_free", "stale")
    assert list(events(trace).columns[:8]) == ["step", "thread", "action", "pte", "spte", "refcount",
                                              "page_state", "violation"]
    assert events(trace).loc[10, "page_state"] == FREE        # step 11: tlb_finish_mmu freed the page
    assert events(trace).loc[10, "action"].startswith("unmap_vmas: tlb_finish_mmu")


def test_sptes_are_rebuilt_after_range_start_until_the_pte_clear():
    """Claim C3: range_start zaps, but the fault still finds the pte and builds a new spte."""
    scenario = Scenario(op="zap", scheme="range", refmode="pin")
    model = labkit.build(scenario)
    start = after_range_start(model)
    trace = simulate(scenario, ["vm"] * start + ["fault"] * 7)
    assert trace.final.ptes[0].pfn == 0, "the pte is not cleared yet"
    assert trace.final.sptes[0] is not None and trace.final.sptes[0].pfn == 0, "a fresh spte maps P again"


def test_range_seq_refuses_to_rebuild_sptes_inside_the_range():
    """What 2.6.27 merged: mmu_notifier_count != 0 makes the fault retry instead of installing."""
    scenario = Scenario(op="zap", scheme="range_seq", refmode="pin")
    model = labkit.build(scenario)
    state = run(model, named((0,) * after_range_start(model)))[-1].after    # range_start has run
    state = run(model, alone(1), state)[-1].after              # the fault alone, until it gives up
    assert state.sptes[0] is None
    assert dict(state.threads[1].local)["attempt"] == 3    # two attempts refused, then it gave up


def test_rmap_with_invalidate_page_and_no_refcount_is_racy():
    """try_to_unmap_one notifies under the PTL, but a fault that read the pte before the clear installs after."""
    scenario = Scenario(op="rmap", scheme="page", refmode="off")
    trace = simulate(scenario, whole_window(scenario))
    assert "use_after_free" in trace.violated()


def test_rmap_with_invalidate_page_is_safe_when_the_fault_installs_under_the_ptl():
    """off_under_ptl: the install and the clear+notify are serialised by the PTL, for every window."""
    scenario = Scenario(op="rmap", scheme="page", refmode="off_under_ptl")
    n = vm_length(scenario)
    for read in range(n + 1):
        for install in range(read, n + 1):
            assert simulate(scenario, interleave(scenario, read, install)).violated() == ()


def test_rmap_with_pin_defeats_reclaim_without_a_use_after_free_or_a_stale_entry():
    """page_freeze_refs(page, 2) fails while the spte pins the page: it stays in the swap cache, the pte holds a
    swap entry for that same page, and the next fault maps it again.  Reclaim is defeated; nothing diverges."""
    scenario = Scenario(op="rmap", scheme="page", refmode="pin")
    steps = labkit.build(scenario).programs[0].steps
    freeze = next(i for i, step in enumerate(steps) if step.kind == "reclaim")     # install just before it
    trace = simulate(scenario, interleave(scenario, 0, freeze))
    assert trace.violated() == ("reclaim_defeated",)
    page, pte = trace.final.pages[0], trace.final.ptes[0]
    assert page.state == IN_USE and page.cached and pte.swapped and pte.pfn == 0
    result = labkit.explore(scenario)
    assert result.violated["reclaim_defeated"]
    assert not result.violated["use_after_free"] and not result.violated["stale"]


def test_page_seq_catches_the_rmap_race():
    """KVM's invalidate_page bumps mmu_notifier_seq; the fault sees it moved and does not install."""
    scenario = Scenario(op="rmap", scheme="page_seq", refmode="pin")
    trace = simulate(scenario, whole_window(scenario))
    assert trace.violated() == ()
    assert any(move.step.kind == "put_page" and trace.schedule[i] == "fault" for i, move in enumerate(trace.moves))


def test_after_cow_a_read_only_entry_keeps_showing_the_old_data_without_a_sequence_check():
    """The GRU maps a read miss read-only: an entry to the parent's page survives the COW and the process's store."""
    scenario = Scenario(op="cow", scheme="page", refmode="pin", secondary="gru", accesses=1)
    result = labkit.explore(scenario.replace(scheme="none"))
    assert result.violated["stale_read"] and result.violated["stale"] and not result.violated["use_after_free"]
    trace = simulate(scenario.replace(scheme="none"), result.shortest["stale_read"])
    spte = trace.states[-2].sptes[0]
    assert spte.pfn == 0 and not spte.writable                   # a read-only view of the parent's page P
    assert trace.final.ptes[0].pfn == 1 and trace.final.pages[1].value == 1    # the process wrote N


def test_kvm_breaks_cow_itself_so_in_2_6_27_it_never_maps_the_parent_s_page():
    """gfn_to_pfn asks get_user_pages for write: a read-only pte is COW-broken before the spte is made."""
    for scheme in ("none", "page", "range"):
        result = labkit.explore(Scenario(op="cow", scheme=scheme, refmode="pin"))
        assert not any(result.violated.values()), result.summary()
    later = labkit.explore(Scenario(op="cow", scheme="page", refmode="pin", era="2012"))
    assert later.violated["stale_read"], "from 3.x a read fault maps the page read-only, and 3.7 COW has no " \
                                         "invalidate_page for a page-only driver"


def test_rmap_page_xpmem_sleeps_in_atomic_context_until_2012():
    """2.6.27: invalidate_page under the PTL and the anon_vma spinlock.  The 2008 postings: Lameter's rmap
    notifier ran after the rmap walk with only the page lock held, but inside rcu_read_lock().  3.7
    (2ec74c3ef2d8): after pte_unmap_unlock, with only SRCU and sleeping locks held."""
    merged = simulate(Scenario(op="rmap", scheme="page", refmode="pin", secondary="xpmem"), "in_order")
    assert "sleep_in_atomic" in merged.violated()
    assert "PTL" in status(merged, merged.first_violation("sleep_in_atomic"))
    for era, sleeps in (("2008-01", True), ("2012", False)):
        result = labkit.explore(Scenario(op="rmap", scheme="page", refmode="pin", secondary="xpmem", era=era))
        assert result.violated["sleep_in_atomic"] is sleeps, era


def test_the_2012_post_unlock_window_is_reachable_and_named():
    """3.7 to 4.10: between pte_unmap_unlock and invalidate_page the spte still maps the page whose pte now
    holds a swap entry.  A fault there takes a swap-cache reference before lock_page, so reclaim keeps the
    page and the fault maps the same page again: no harm here (tests/test_eras.py)."""
    scenario = Scenario(op="rmap", scheme="page_seq", refmode="off", era="2012")
    steps = [step.action for step in labkit.build(scenario).programs[0].steps]
    unlock = steps.index("try_to_unmap_one: pte_unmap_unlock")
    assert steps[unlock + 1].startswith("kvm_mmu_notifier_invalidate_page")
    trace = simulate(scenario, ["fault"] * 8 + ["vm"] * (unlock + 1) + ["guest"])
    window = trace.final
    assert window.ptes[0].swapped and window.sptes[0] is not None and window.sptes[0].pfn == 0
    assert window.ptl == -1 and trace.violated() == ()
    assert not any(labkit.explore(scenario).violated.values())


def test_from_2017_rmap_calls_range_hooks_outside_the_ptl_where_xpmem_may_sleep():
    trace = simulate(Scenario(op="rmap", scheme="range_seq", refmode="pin", secondary="xpmem", era="2017"),
                     "in_order")
    assert trace.violated() == ()
    actions = [move.step.action for move in trace.moves if move.thread == 0]
    assert actions[1].startswith("xpmem_invalidate_range_start")          # after lock_page
    assert "page_check_address" in actions[actions.index(next(a for a in actions if "unlock xpmem lock" in a)) + 1]


def test_xpmem_range_callbacks_may_sleep_only_from_2012():
    """rcu_read_lock() in the January 2008 postings and in 2.6.27; SRCU from 3.7."""
    proposal = Scenario(op="zap", scheme="range_seq", refmode="pin", secondary="xpmem", era="2008-01")
    for era, sleeps in (("2008-01", True), ("2.6.27", True), ("2012", False)):
        assert ("sleep_in_atomic" in simulate(proposal.replace(era=era), "in_order").violated()) is sleeps, era


def test_kvm_callbacks_never_sleep():
    for op in labkit.OPS:
        assert "sleep_in_atomic" not in simulate(Scenario(op=op, scheme="range_seq", refmode="pin"),
                                                 "in_order").violated()


def test_gup_release_needs_the_sequence_check():
    """KVM from 2009 drops the reference right after installing: safe only because of mmu_notifier_seq."""
    racy = Scenario(op="zap", scheme="range", refmode="gup_release")
    assert "use_after_free" in simulate(racy, whole_window(racy)).violated()
    safe = racy.replace(scheme="range_seq")
    assert simulate(safe, whole_window(safe)).violated() == ()


def test_gru_hardware_ignores_a_dropin_that_an_invalidate_overtook():
    """grufault.c: an invalidate between reading the TFH and the dropin makes the hardware drop it."""
    scenario = Scenario(op="rmap", scheme="page", refmode="off", secondary="gru")
    trace = simulate(scenario, whole_window(scenario))
    assert trace.violated() == ()
    assert trace.final.sptes[0] is None or trace.final.sptes[0].pfn == trace.final.ptes[0].pfn   # dropped, or refaulted
    assert not any(move.step.kind == "install" and move.after.sptes[0] is not None and move.after.sptes[0].pfn == 0
                   and trace.moves[i - 1].after.ptes[0] is None for i, move in enumerate(trace.moves))
    kvm = scenario.replace(secondary="kvm")
    assert "use_after_free" in simulate(kvm, whole_window(kvm)).violated()


def test_release_after_range_end_closes_the_window_only_for_a_fault_that_installs_before_the_end():
    scenario = Scenario(op="zap", scheme="range", refmode="off", release="after_end")
    model = labkit.build(scenario)
    assert model.programs[0].steps[-2].action.startswith("zap_page_range: tlb_finish_mmu")   # then up_read
    # the fault that installs after the whole operation still maps a freed page
    assert "use_after_free" in simulate(scenario, whole_window(scenario)).violated()


def test_refcounts_balance_at_the_end_of_every_in_order_run():
    for op in labkit.OPS:
        for scheme in labkit.kernel.schemes.BUILTIN_SCHEMES:
            for refmode in labkit.REFMODES:
                trace = simulate(Scenario(op=op, scheme=scheme, refmode=refmode), "in_order")
                assert "refcount" not in trace.violated(), (op, scheme, refmode)


def test_allocator_hands_a_freed_page_to_another_owner():
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    schedule = "fault,fault,fault,vm,vm,vm,vm,vm,vm,vm,vm,allocator,vm,vm,vm,vm,fault,fault,fault,guest"
    trace = simulate(scenario, schedule)
    assert trace.final.pages[0].state == "reused"
    assert "handed to another owner" in status(trace, len(trace.moves))


def test_every_step_names_a_kernel_function_and_a_source():
    for scenario in configurations(schemes=tuple(labkit.SCHEMES)):
        for program in labkit.build(scenario).programs:
            for step in program.steps:
                assert step.action and step.site, (program.name, step)
                assert ":" in step.action or "_" in step.action, step.action


def test_simulate_is_deterministic():
    scenario = Scenario(op="cow", scheme="range_seq", refmode="gup_release", vcpus=2)
    first = simulate(scenario, "in_order")
    second = simulate(scenario, "in_order")
    assert first.states == second.states
    assert events(first).to_csv() == events(second).to_csv()


def test_states_are_hashable_values():
    trace = simulate(Scenario(op="zap", scheme="range_seq", refmode="pin"), "in_order")
    assert len({hash(s) for s in trace.states}) == len(set(trace.states))
    with pytest.raises(AttributeError):
        trace.final.ptl = 3


def test_a_second_vcpu_installing_the_same_page_releases_its_extra_reference():
    """mmu_set_spte's was_rmapped path: kvm_release_pfn_clean on the new reference (2.6.27)."""
    result = labkit.explore(Scenario(op="zap", scheme="range_seq", refmode="pin", vcpus=2))
    assert not result.violated["refcount"]
    trace = simulate(Scenario(op="rmap", scheme="none", refmode="pin", vcpus=2),
                     "fault,fault,fault,fault,fault,fault,fault,fault2,fault2,fault2,fault2,fault2,fault2,fault2")
    assert trace.final.pages[0].refcount == 4        # the mapping's, the swap cache's, reclaim's, the spte's
    assert trace.violated() == ()


def test_the_slider_moves_an_early_check_with_the_read():
    """interleave: every step before the pte read (a GRU ms_range_active test too) runs at read_after."""
    scenario = Scenario(op="zap", scheme="gru", refmode="off", secondary="gru")
    before = interleave(scenario, 0, vm_length(scenario))
    assert before[:3] == ("fault",) * 3          # TFH, ms_range_active test, the lockless pte read
    inside = simulate(scenario, interleave(scenario, 3, vm_length(scenario)))
    refused = [m.step.label for m in inside.moves if m.thread == 1]
    assert "refused" in refused                  # range_start has raised ms_range_active by then


def test_munmap_holds_mmap_sem_so_only_a_fault_that_read_before_it_can_race():
    """sys_munmap: down_write(mmap_sem); the fault's get_user_pages walks under down_read.  The window of
    the 2008 argument (read before, install after) survives; a read inside the operation does not."""
    munmap = Scenario(op="zap", scheme="range", refmode="off", caller="munmap")
    assert "use_after_free" in simulate(munmap, whole_window(munmap)).violated()
    n = vm_length(munmap)
    for read in range(1, n + 1):
        for install in range(read, n + 1):
            assert simulate(munmap, interleave(munmap, read, install)).violated() == (), (read, install)


def test_installing_under_the_ptl_is_safe_against_munmap_and_truncate_but_not_against_madvise():
    """Under the PTL the install comes before the clear or not at all.  madvise frees the page through the
    mmu_gather before range_end; munmap (2.6.27) keeps the fault out with mmap_sem; truncate's page-cache page
    lives until truncate_inode_pages, after range_end zapped the entry."""
    racy = Scenario(op="zap", scheme="range", refmode="off_under_ptl")
    assert labkit.explore(racy).violated["use_after_free"] is True
    for caller in ("munmap", "truncate"):
        assert labkit.explore(racy.replace(caller=caller)).violated["use_after_free"] is False, caller


def test_the_thread_s_verdicts_hold_for_munmap_too():
    for scheme, refmode, broken in (("range", "off", True), ("range", "pin", False), ("range_block", "off", True),
                                    ("range_seq", "off", False), ("range_seq", "gup_release", False)):
        result = labkit.explore(Scenario(op="zap", scheme=scheme, refmode=refmode, caller="munmap"))
        assert result.violated["use_after_free"] is broken, (scheme, refmode)
        assert result.deadlocks == 0
