"""Every search is bounded, and a search its budget stopped says *unknown*, never "safe"."""
import json
import subprocess
import sys
import tracemalloc

import pytest

from labkit import Scenario, explore, verdicts
from labkit.core.invariants import INVARIANTS
from labkit.search.explore import DEFAULT_MAX_STATES, STATE_BYTES, Cancelled
from labkit.tables import matrix, stories
from labkit.tables.exercises import worksheet

SMALL = Scenario(op="zap", scheme="range", refmode="pin")               # 200-odd states: stale, nothing else
#: Three faulting vCPUs on eight pages: millions of states, gigabytes without the budget.
GROWING = dict(op="rmap", scheme="range_seq", refmode="pin", vcpus=3, pages=8, accesses=4, attempts=4)


def test_max_states_is_an_exact_bound_on_the_states_stored():
    full = explore(SMALL).states
    for bound in (1, 2, 3, 4, 5, 17, full - 1, full, full + 1):
        result = explore(SMALL, max_states=bound)
        assert result.states == min(bound, full), bound
        assert result.complete == (bound >= full), bound


def test_a_stopped_search_keeps_what_it_found_and_says_unknown_for_the_rest():
    complete = explore(SMALL)
    assert complete.verdict("stale") == "yes" and complete.verdict("use_after_free") == "no"
    bound = next(n for n in range(1, complete.states) if explore(SMALL, max_states=n).violated["stale"])
    stopped = explore(SMALL, max_states=bound)
    assert not stopped.complete
    assert stopped.verdict("stale") == "yes"                  # a violation found is definite
    assert stopped.shortest["stale"] == complete.shortest["stale"]
    for name in ("use_after_free", "refcount", "sleep_in_atomic"):
        assert stopped.violated[name] is None and stopped.verdict(name) == "unknown"
    assert stopped.summary().startswith("zap/range/pin/kvm: stale; unknown: use_after_free, refcount, sleep_in_atomic")
    assert "no invariant can be broken" not in explore(SMALL, max_states=3).summary()


def test_a_stopped_search_says_how_deep_it_looked():
    """Breadth first: every schedule of up to ``depth`` steps was tried, so none of them breaks what is unknown."""
    stopped = explore(Scenario(op="zap", scheme="range", refmode="off"), max_states=150)
    assert stopped.depth > 0
    assert f"no schedule of up to {stopped.depth} steps breaks them" in stopped.summary()
    complete = explore(Scenario(op="zap", scheme="range", refmode="off"))
    assert len(complete.shortest["use_after_free"]) > stopped.depth     # the violation lies deeper


def test_a_complete_search_summary_is_worded_as_before():
    result = explore(Scenario(op="zap", scheme="range_seq", refmode="off"))
    assert result.complete and result.summary() == (
        f"zap/range_seq/off/kvm: no invariant can be broken ({result.states} states, {result.transitions} "
        f"transitions, {result.terminal} terminal)")


def test_verdict_is_unknown_for_an_invariant_not_searched_for():
    result = explore(SMALL, invariants="stale")
    assert result.invariants == ("stale",)
    assert result.verdict("stale") == "yes" and result.verdict("use_after_free") == "unknown"
    with pytest.raises(ValueError, match="unknown invariant 'uaf'"):
        result.verdict("uaf")


def test_no_table_reads_a_stopped_search_as_safe(monkeypatch):
    table = verdicts(ops="zap", schemes=("range_seq",), refmodes="off", secondaries="kvm", max_states=10)
    assert [table.iloc[0][name] for name in INVARIANTS] == ["unknown"] * len(INVARIANTS)
    assert matrix.letters(table.iloc[0]) == "?"
    monkeypatch.setattr("labkit.search.explore.DEFAULT_MAX_STATES", 10)
    assert list(stories.verdict_table([SMALL]).iloc[0][list(INVARIANTS)]) == ["unknown"] * len(INVARIANTS)
    assert matrix.growth(SMALL, "pages", (1,)).iloc[0]["broken"].startswith("unknown: use_after_free, stale")
    problem = worksheet(2008)[0]
    assert "not graded" in problem.check("nothing") and "too large to grade" in problem.check("nothing")


def test_progress_is_called_every_so_many_expanded_states_with_the_counts_so_far():
    calls = []
    result = explore(SMALL, progress=lambda states, transitions: calls.append((states, transitions)),
                     progress_every=10)
    assert len(calls) == result.states // 10          # a complete search expands every state it stores
    assert calls == sorted(calls)
    assert calls[-1][0] <= result.states and calls[-1][1] <= result.transitions


def test_whatever_progress_raises_ends_the_search_and_comes_out_unchanged():
    def cancel(states, transitions):
        raise Cancelled(f"cancelled at {states}")

    with pytest.raises(Cancelled, match="cancelled at"):
        explore(Scenario(**GROWING), progress=cancel, progress_every=100)

    class Mine(Exception):
        pass

    def fail(states, transitions):
        raise Mine()

    with pytest.raises(Mine):
        explore(SMALL, progress=fail, progress_every=1)


@pytest.mark.parametrize("arguments, error, words", [
    (dict(max_states=0), ValueError, "max_states=0: must be 1 or more"),
    (dict(max_states=2.5), TypeError, "max_states=2.5: give a whole number"),
    (dict(max_states=True), TypeError, "max_states=True"),
    (dict(progress=3), TypeError, "progress=3: give a function"),
    (dict(progress_every=0), ValueError, "progress_every=0: must be 1 or more"),
    (dict(progress_every="10"), TypeError, "progress_every='10'"),
    (dict(invariants=None), TypeError, "invariants=None: give one name or a list of names from: use_after_free"),
    (dict(invariants=()), ValueError, "invariants is empty"),
    (dict(invariants="uaf"), ValueError, "unknown invariant 'uaf'; choose from: use_after_free"),
    (dict(invariants={"stale": 1}), TypeError, "invariants="),
])
def test_explore_checks_its_arguments_before_searching(arguments, error, words):
    with pytest.raises(error) as raised:
        explore(SMALL, **arguments)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_invariants_may_be_one_name_or_any_collection_and_come_back_in_the_table_order():
    assert explore(SMALL, invariants="stale").invariants == ("stale",)
    assert explore(SMALL, invariants={"stale", "use_after_free"}).invariants == ("use_after_free", "stale")
    assert explore(SMALL, invariants=["refcount", "stale", "stale"]).invariants == ("stale", "refcount")


def test_a_search_that_would_grow_past_the_budget_stays_within_its_memory():
    """The per-state figure behind the default budget, measured here with tracemalloc (Python objects only)."""
    bound = 10_000
    tracemalloc.start()
    try:
        result = explore(Scenario(**GROWING), max_states=bound)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.states == bound and not result.complete
    assert all(result.verdict(name) in ("yes", "unknown") for name in INVARIANTS)
    assert peak < 1.5 * bound * STATE_BYTES, peak / bound


MEASURE = """
import json, resource, sys
from labkit import Scenario, build, explore
scenario = Scenario(**json.loads(sys.argv[1]))
build(scenario)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = explore(scenario)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(states=result.states, complete=result.complete, grown=(after - before) * 1024,
                      verdicts=[result.verdict(name) for name in result.invariants])))
"""


@pytest.mark.slow
def test_the_default_budget_stops_a_growing_search_under_the_stated_memory():
    """The whole default budget, in a fresh interpreter so that its peak RSS is the search's own (10-20 s)."""
    run = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(GROWING)], capture_output=True, text=True,
                         timeout=300, check=True)
    measured = json.loads(run.stdout)
    assert measured["states"] == DEFAULT_MAX_STATES and not measured["complete"]
    assert set(measured["verdicts"]) <= {"yes", "unknown"} and "unknown" in measured["verdicts"]
    assert measured["grown"] < 1.3 * DEFAULT_MAX_STATES * STATE_BYTES, measured["grown"] / DEFAULT_MAX_STATES
