"""A kernel developer defines a scheme in a notebook cell and runs it through everything else."""
import pytest

import labkit
from labkit import Scenario, Scheme, explore, register_scheme, simulate
from labkit.kernel.schemes import SCHEMES
from labkit.kit import Step, counter, local, put_page, spin_lock, spin_unlock, with_counter, with_local, zap


def interval_notifier() -> Scheme:
    """mmu_interval_notifier (5.5): invalidate makes the sequence odd; read_begin waits for it to be even."""
    def set_seq(call):
        return Step("mmu_interval_set_seq: invalidate_seq++ (odd: invalidating)",
                    lambda s, t: with_counter(s, "invalidate_seq", counter(s, "invalidate_seq") + 1),
                    "mm/mmu_notifier.c mn_itree_invalidate (5.5)")

    def read_begin(call):
        def run(s, t):
            seq = counter(s, "invalidate_seq")
            return None if seq % 2 else with_local(s, t, seq=seq)   # sleeps while invalidating
        return Step("mmu_interval_read_begin", run, "mm/mmu_notifier.c mmu_interval_read_begin (5.5)")

    return Scheme(
        name="my_interval", summary="mmu_interval_notifier with read_begin/read_retry, written in a cell",
        counters=(("invalidate_seq", 0),),
        invalidate_range_start=(spin_lock, set_seq, zap, spin_unlock),
        invalidate_range_end=(spin_lock, set_seq, spin_unlock),
        fault_begin=(read_begin,),
        fault_retry=lambda s, t: counter(s, "invalidate_seq") != local(s, t, "seq"),
        retry_name="mmu_interval_read_retry",
    )


@pytest.fixture
def registered():
    names = []

    def add(scheme):
        register_scheme(scheme, replace=True)
        names.append(scheme.name)
        return scheme
    yield add
    for name in names:
        SCHEMES.pop(name, None)


def test_an_interval_notifier_defined_in_a_dozen_lines_is_safe_without_a_refcount(registered):
    registered(interval_notifier())
    for refmode in ("off", "gup_release"):
        result = explore(Scenario(op="zap", scheme="my_interval", refmode=refmode))
        assert result.complete and not any(result.violated.values()), result.summary()


def test_a_driver_that_forgets_to_bump_its_sequence_is_caught(registered):
    """A deliberately buggy driver: range_end lowers nothing and bumps nothing."""
    good = SCHEMES["range_seq"]
    buggy = Scheme(name="forgetful", summary="range_end forgets mmu_notifier_seq++",
                   counters=good.counters, invalidate_page=good.invalidate_page,
                   invalidate_range_start=(spin_lock, spin_unlock), invalidate_range_end=(spin_lock, spin_unlock),
                   fault_begin=good.fault_begin, fault_retry=good.fault_retry)
    registered(buggy)
    result = explore(Scenario(op="zap", scheme="forgetful", refmode="off"))
    assert result.violated["use_after_free"]
    trace = simulate(Scenario(op="zap", scheme="forgetful", refmode="off"), result.shortest["use_after_free"])
    assert "use_after_free" in trace.violations[-1]


def test_a_driver_that_drops_a_reference_twice_breaks_the_refcount(registered):
    def double_put(call):
        def run(s, t):
            return put_page(s, 0)
        return Step("buggy_invalidate_page: put_page", run, "a deliberately buggy driver")
    registered(Scheme(name="double_put", summary="puts a page it never got", invalidate_page=(double_put,)))
    result = explore(Scenario(op="rmap", scheme="double_put", refmode="off"))
    assert result.violated["refcount"]


def test_a_scheme_with_a_non_tuple_hook_is_refused_with_an_example():
    with pytest.raises(ValueError, match=r"tuple of step templates .*\(spin_lock, zap, spin_unlock\)"):
        Scheme(name="wrong", summary="", invalidate_page=[spin_lock])


def test_registering_a_name_twice_needs_replace():
    with pytest.raises(ValueError, match="replace=True"):
        register_scheme(Scheme(name="range", summary="again"))


def test_replacing_a_registered_scheme_changes_what_explore_runs(registered):
    """A Scenario resolves its scheme when it is made: a replaced scheme is never served from the old model."""
    good = SCHEMES["range_seq"]
    safe = Scheme(name="swap_me", summary="KVM's scheme", counters=good.counters,
                  invalidate_page=good.invalidate_page, invalidate_range_start=good.invalidate_range_start,
                  invalidate_range_end=good.invalidate_range_end, fault_begin=good.fault_begin,
                  fault_retry=good.fault_retry)
    registered(safe)
    before = explore(Scenario(op="zap", scheme="swap_me", refmode="off"))
    assert not any(before.violated.values())

    registered(Scheme(name="swap_me", summary="no callbacks at all"))
    after = explore(Scenario(op="zap", scheme="swap_me", refmode="off"))
    assert after.violated["use_after_free"], after.summary()
    assert after.scenario.scheme_record.summary == "no callbacks at all"


def test_a_scenario_keeps_the_scheme_it_was_made_with(registered):
    """Equal names are not enough for equal Scenarios: the scheme itself takes part in equality."""
    registered(Scheme(name="kept", summary="first"))
    first = Scenario(op="zap", scheme="kept", refmode="off")
    registered(Scheme(name="kept", summary="second"))
    second = Scenario(op="zap", scheme="kept", refmode="off")
    assert first != second
    assert labkit.build(first).scheme.summary == "first"
    assert labkit.build(second).scheme.summary == "second"
    assert first.replace(refmode="pin").scheme_record.summary == "first"


def test_a_scheme_that_declares_it_drives_the_iommu_explores_on_the_iommu(registered):
    """A scheme that declares what it drives (``requires``) wins over the IOMMU's list of built-in schemes:
    one written in a cell that flushes the IOTLB at range_start and range_end runs on the IOMMU, in Scenario,
    explore and verdicts alike (one rule: labkit.kernel.schemes.drives)."""
    registered(Scheme(name="flush_both_ends", summary="flush the IOTLB at range_start and at range_end",
                      invalidate_range_start=(zap,), invalidate_range_end=(zap,), requires=("iommu",)))
    scenario = Scenario(op="zap", scheme="flush_both_ends", refmode="off", secondary="iommu", era="2017")
    result = explore(scenario)
    assert result.complete and result.violated["use_after_free"], result.summary()   # the mmu_gather frees between
    table = labkit.verdicts(ops="zap", schemes="flush_both_ends", refmodes="off", secondaries="iommu")
    assert list(table["scheme"]) == ["flush_both_ends"]
    with pytest.raises(ValueError, match="drives only secondary='iommu', not 'kvm'"):
        Scenario(op="zap", scheme="flush_both_ends", refmode="off")
    with pytest.raises(ValueError, match="or by a scheme that declares requires=\\('iommu',\\)"):
        Scenario(op="zap", scheme="range", refmode="off", secondary="iommu")


@pytest.mark.parametrize("fields, words", [
    (dict(name=123), "Scheme name=123: give a Python identifier of at most 40 characters"),
    (dict(name="a,b"), "Scheme name='a,b': give a Python identifier"),
    (dict(name=""), "Scheme name='': give a Python identifier"),
    (dict(summary=None), "scheme 'mine': summary=None must be a string"),
    (dict(fault_retry=42), "scheme 'mine': fault_retry=42 must be None or a function (System, t) -> bool"),
    (dict(counters=5), "scheme 'mine': counters=5 must be a tuple of (name, initial value) pairs"),
    (dict(counters=(("seq", "0"),)), "scheme 'mine': counters=(('seq', '0'),) must be a tuple of"),
    (dict(counters=[("seq", 0)]), "scheme 'mine': counters=[('seq', 0)] must be a tuple of"),
    (dict(check_at="later"), "scheme 'mine': check_at='later': choose 'install' or 'begin'"),
    (dict(requires="kvmgru"), "scheme 'mine': requires='kvmgru' must be a tuple of secondaries from: kvm, gru, "
                              "xpmem, iommu"),
    (dict(requires=("kvm", "tpu")), "scheme 'mine': requires=('kvm', 'tpu') must be a tuple of secondaries"),
    (dict(fault_begin=(42,)), "scheme 'mine': fault_begin must be a tuple of step templates"),
])
def test_a_scheme_checks_its_fields_when_it_is_made(fields, words):
    with pytest.raises(ValueError) as error:
        Scheme(**{"name": "mine", "summary": "", **fields})
    assert str(error.value).startswith(words) and "\n" not in str(error.value)


def test_a_requires_string_is_not_matched_as_a_substring():
    with pytest.raises(ValueError, match="requires='kvmgru'"):
        register_scheme(Scheme(name="picky", summary="", requires="kvmgru"))
    assert "picky" not in SCHEMES


def test_numpy_counter_values_are_kept_as_ints():
    import numpy as np

    scheme = Scheme(name="counted", summary="", counters=(("seq", np.int64(0)),))
    assert scheme.counters == (("seq", 0),) and type(scheme.counters[0][1]) is int


def test_an_unregistered_scheme_may_not_pass_for_a_registered_one():
    """Its Scenario would print scheme='range', and that replay line would run the built-in range: another model."""
    impostor = Scheme(name="range", summary="range without range_end", invalidate_page=SCHEMES["range"].invalidate_page,
                      invalidate_range_start=SCHEMES["range"].invalidate_range_start)
    with pytest.raises(ValueError) as error:
        Scenario(op="zap", scheme=impostor, refmode="off")
    assert str(error.value).startswith("scheme 'range' is not the registered scheme of that name")
    assert "register yours under a name of its own" in str(error.value)
    assert Scenario(op="zap", scheme=SCHEMES["range"], refmode="off") == Scenario(op="zap", scheme="range",
                                                                                  refmode="off")


def test_a_scheme_that_was_registered_and_then_replaced_is_kept_by_old_scenarios(registered):
    registered(Scheme(name="twice", summary="first"))
    first = Scenario(op="zap", scheme="twice", refmode="off")
    registered(Scheme(name="twice", summary="second"))
    assert first.replace(refmode="pin").scheme_record.summary == "first"
    assert Scenario(op="zap", scheme=first.scheme_record, refmode="off") == first
