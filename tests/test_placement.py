"""A schedule built by placement runs every thread of the configuration, and its views agree with explore.

The slider and the window map place the fault's pte read and install among
the VM operation's steps (``labkit.search.schedules``).  For ``cow2`` the VM
operation is three threads (the COWs ``vm`` and ``vm2`` and the CPU writer
``cpu``): every run the slider makes must run them all to their end, and a
configuration that some schedule breaks must have a placement that breaks
it, or the window map must say why none can.
"""
import pytest

from labkit import ERAS, REFMODES, SCHEMES, SECONDARIES, Scenario, build, explore, interleave, simulate, vm_length
from labkit.core.engine import final_violations, quiescent, run
from labkit.core.invariants import invariant
from labkit.search.schedules import operation_threads, placement, vm_order
from labkit.tables.stories import beyond_placements, window_map
from labkit.widgets import Lab, windowmap
from labkit.widgets.lanes import placement_of, vm_places

#: Documentation/vm/mmu_notifier.rst's store-order example, as the issue found it: explore breaks store_order.
STORE_ORDER = Scenario(op="cow2", scheme="end_only", refmode="off", secondary="iommu", era="2017")


def cow2_configurations() -> list:
    found = []
    for scheme in SCHEMES:
        for refmode in REFMODES:
            for secondary in SECONDARIES:
                for era in ERAS:
                    try:
                        found.append(Scenario(op="cow2", scheme=scheme, refmode=refmode, secondary=secondary, era=era))
                    except ValueError:
                        pass
    return found


def test_the_vm_operation_of_cow2_is_both_cows_and_the_cpu_writer_in_the_documentations_order():
    model = build(STORE_ORDER)
    assert [model.names[t] for t in operation_threads(model)] == ["vm", "vm2", "cpu"]
    order = [model.names[t] for t in vm_order(model)]
    # COW_step0 and COW_step1 of A, then of B; the CPU's stores to A and B; then COW_step2 (range_end) of A and B
    assert order == ["vm"] * 9 + ["vm2"] * 9 + ["cpu"] * 2 + ["vm"] * 2 + ["vm2"] * 2
    assert vm_length(STORE_ORDER) == sum(len(model.programs[t].steps) for t in operation_threads(model))
    places = vm_places(model)
    assert places[19] == "19: after cpu: store" and places[21].startswith("21: after vm: range_end")


def test_a_slider_run_of_cow2_runs_every_thread_to_its_end():
    trace = simulate(STORE_ORDER, interleave(STORE_ORDER, 0, vm_length(STORE_ORDER)))
    assert trace.finished
    assert {"vm", "vm2", "cpu", "fault", "guest"} <= set(trace.schedule)


def test_the_store_order_example_has_placements_that_break_it_as_explore_does():
    assert explore(STORE_ORDER).verdict("store_order") == "yes"
    trace = simulate(STORE_ORDER, interleave(STORE_ORDER, 0, 20))   # IOTLB filled first, reads after the stores
    assert "store_order" in trace.violated()
    assert placement_of(trace)[0] == 0
    shown = windowmap(STORE_ORDER)
    assert "0 of" not in shown.text() and shown.beyond == ""


def test_a_window_map_that_cannot_place_what_explore_finds_says_so():
    scenario = STORE_ORDER.replace(era="2.6.27")   # range_end under the PTL: the break needs B's COW inside A's
    assert explore(scenario).verdict("store_order") == "yes"
    table = window_map(scenario)
    assert not any("T" in cell for column in table.columns for cell in table[column])
    words = beyond_placements(scenario, table)
    assert words.startswith("no placement breaks store_order (T), yet some schedule does")
    assert "vm, vm2 and cpu in one order" in words
    shown = windowmap(scenario)
    assert shown.text().endswith(words) and words in repr(shown)


def test_the_slider_says_what_its_handles_place_for_a_translation_filled_in_one_step():
    lab = Lab(STORE_ORDER, read_after=0, install_after=20)
    assert "the IOMMU&#x27;s walk fills the IOTLB entry <b>0: before vm" in lab.placement.value
    assert "the device reads <b>20: after cpu: store</b>" in lab.placement.value
    lab.set(op="zap", secondary="kvm", scheme="range", era="2.6.27")
    assert "the fault reads the pte <b>" in lab.placement.value and "installs its entry <b>" in lab.placement.value


def _placements(scenario):
    """(finished, invariants broken) for every placement of the window map, run by the engine itself."""
    model = build(scenario)
    n = vm_length(scenario)
    for install in range(n + 1):
        for read in range(install + 1):
            moves = run(model, placement(model, read, install, install))
            end = moves[-1].after
            broken = {name for move in moves for name in move.violations} | set(final_violations(model, end))
            yield (read, install), quiescent(model, end), broken


@pytest.mark.slow
@pytest.mark.parametrize("era", list(ERAS))
def test_every_cow2_slider_run_finishes_and_what_explore_breaks_is_placed_or_explained(era):
    for scenario in [s for s in cow2_configurations() if s.era == era]:
        placed = set()
        for where, finished, broken in _placements(scenario):
            assert finished, f"{scenario!r}: the slider's run at {where} does not finish"
            placed |= broken
        broken = explore(scenario).found("yes")
        missing = set(broken) - placed
        if missing:
            words = beyond_placements(scenario, broken=broken)
            assert all(f"{name} ({invariant(name).letter})" in words for name in missing), (scenario, words)
