"""The explorer: every interleaving, shortest counterexamples, and agreement with simulate."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labkit
from labkit import Scenario, explore, simulate
from labkit.core.engine import final_violations, run, runnable, successors
from labkit.core.invariants import INVARIANTS
from labkit.search.verdicts import configurations

MATRIX = list(configurations()) + [Scenario(op=op, scheme="gru", refmode="off", secondary="gru")
                                   for op in labkit.OPS]


@pytest.fixture(scope="module")
def explorations():
    return {scenario: explore(scenario) for scenario in MATRIX}


def test_every_counterexample_replays_to_the_same_violation_at_its_last_step(explorations):
    replayed = 0
    for scenario, result in explorations.items():
        assert result.complete and result.deadlocks == 0, scenario
        for name in INVARIANTS:
            schedule = result.shortest[name]
            assert (schedule is not None) == result.violated[name]
            if schedule:
                trace = simulate(scenario, schedule)
                assert name in trace.violations[-1], (scenario, name, trace.violations)
                replayed += 1
    assert replayed > 200


def test_counterexamples_are_shortest():
    """Cross-check with a different algorithm: level sets of states, no parent links."""
    for scenario in (Scenario(op="zap", scheme="range", refmode="off"),
                     Scenario(op="rmap", scheme="page", refmode="pin"),
                     Scenario(op="cow", scheme="range_block", refmode="off", secondary="xpmem")):
        result = explore(scenario)
        model = labkit.build(scenario)
        for name in INVARIANTS:
            if not result.violated[name]:
                continue
            length = len(result.shortest[name])
            level = {model.initial}
            for depth in range(1, length):
                following = set()
                for state in level:
                    for move in successors(model, state):
                        assert name not in move.violations, (scenario, name, depth)
                        assert name not in final_violations(model, move.after), (scenario, name, depth)
                        following.add(move.after)
                level = following


def test_zap_range_off_lets_the_guest_use_a_freed_page():
    """Arcangeli's C4: range_end runs after the page is released; without a reference, the fault that read
    the pte before the clear installs an spte to a freed page."""
    result = explore(Scenario(op="zap", scheme="range", refmode="off"))
    assert result.violated["use_after_free"]


def test_zap_range_pin_never_frees_the_page_but_leaves_a_stale_spte():
    """The spte's reference keeps the page alive (no use after free), but an install after range_end is never
    zapped: the spte keeps mapping the old page after munmap."""
    result = explore(Scenario(op="zap", scheme="range", refmode="pin"))
    assert not result.violated["use_after_free"]
    assert result.violated["stale"]


def test_zap_range_seq_off_breaks_nothing():
    """2.6.27's KVM scheme: count != 0 refuses installs inside the range, seq catches a whole range that passed
    between the pte read and the install, so no reference is needed (Arcangeli, April 2008)."""
    result = explore(Scenario(op="zap", scheme="range_seq", refmode="off"))
    assert not any(result.violated.values())


def test_rmap_page_off_under_ptl_breaks_nothing():
    """try_to_unmap_one clears the pte and calls invalidate_page under the PTL; a fault that reads and installs
    under the PTL is either wholly before (and is zapped) or wholly after (and finds no pte)."""
    result = explore(Scenario(op="rmap", scheme="page", refmode="off_under_ptl"))
    assert not any(result.violated.values())


def test_range_callbacks_at_the_rmap_site_cannot_sleep():
    """C6: rmap holds spinlocks; a driver that sleeps (XPMEM) is in atomic context at invalidate_page's site.
    Lameter's answer in the 2008 postings was a separate rmap notifier, called after the rmap walk with only
    the page lock held; but mmu_rmap_notifier() ran it inside rcu_read_lock(), so it could not sleep either."""
    merged = explore(Scenario(op="rmap", scheme="range_block", refmode="pin", secondary="xpmem"))
    assert merged.violated["sleep_in_atomic"]
    trace = simulate(merged.scenario, merged.shortest["sleep_in_atomic"])
    assert "PTL" in trace.moves[-1].step.atomic
    proposal = explore(merged.scenario.replace(era="2008-01"))
    assert proposal.violated["sleep_in_atomic"]
    trace = simulate(proposal.scenario, proposal.shortest["sleep_in_atomic"])
    assert trace.moves[-1].step.action.startswith("mmu_rmap_notifier -> xpmem_")
    assert "rcu_read_lock()" in trace.moves[-1].step.atomic and "PTL" not in trace.moves[-1].step.atomic


def test_max_states_stops_with_a_clear_message():
    result = explore(Scenario(op="zap", scheme="range_seq", refmode="pin", vcpus=2), max_states=50)
    assert not result.complete
    assert "max_states=50" in result.message
    assert all(v in (True, None) for v in result.violated.values())


def test_unknown_invariant_names_are_refused():
    with pytest.raises(ValueError, match="choose from: use_after_free, stale, refcount, sleep_in_atomic"):
        explore(Scenario(op="zap", scheme="range", refmode="off"), invariants=("uaf",))


def test_exploration_is_deterministic():
    a = explore(Scenario(op="rmap", scheme="range_seq", refmode="gup_release", accesses=2))
    b = explore(Scenario(op="rmap", scheme="range_seq", refmode="gup_release", accesses=2))
    assert (a.states, a.transitions, a.shortest) == (b.states, b.transitions, b.shortest)


def random_run(scenario, choices):
    """Run a schedule picked by ``choices`` (indices into the runnable threads) to the end."""
    model = labkit.build(scenario)

    def pick(model, state, moves):
        if len(moves) < len(choices):
            threads = runnable(model, state)
            return (threads[choices[len(moves)] % len(threads)],) if threads else ()
        return range(len(model.programs))               # then the first that can run, to the end
    return simulate(scenario, [model.names[move.thread] for move in run(model, pick)])


SMALL = [Scenario(op=op, scheme=scheme, refmode=refmode, secondary=secondary)
         for op in labkit.OPS for scheme in ("page", "range", "range_block", "range_seq")
         for refmode in ("off", "pin", "off_under_ptl") for secondary in ("kvm", "gru")]
VERDICTS = {}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SMALL), st.lists(st.integers(0, 5), max_size=40))
def test_random_schedules_never_break_what_the_explorer_proves_safe(scenario, choices):
    if scenario not in VERDICTS:
        VERDICTS[scenario] = explore(scenario).violated
    trace = random_run(scenario, choices)
    for name in trace.violated():
        assert VERDICTS[scenario][name], (scenario, name, trace.schedule)
