"""Bad input gets a clear error that names the valid choices."""
import subprocess
import sys

import pytest

from labkit import Scenario, simulate
from labkit.search.schedules import interleave


@pytest.mark.parametrize("field, value, choices", [
    ("op", "munmap", "zap, rmap, cow"),
    ("scheme", "ranges", "none, page, page_seq, range, range_block, range_seq"),
    ("refmode", "on", "off, pin, gup_release, off_under_ptl"),
    ("secondary", "tpu", "kvm, gru, xpmem, iommu"),
    ("era", "2024", "2008-01, 2.6.27, 2012, 2017"),
    ("release", "later", "before_end, after_end"),
])
def test_bad_names_list_the_valid_choices(field, value, choices):
    arguments = dict(op="zap", scheme="range", refmode="off")
    arguments[field] = value
    with pytest.raises(ValueError) as error:
        Scenario(**arguments)
    assert f"{field}={value!r}" in str(error.value)
    assert choices in str(error.value)


@pytest.mark.parametrize("field, value", [("pages", 0), ("vcpus", 9), ("attempts", "2"), ("accesses", True)])
def test_bad_counts_say_the_range(field, value):
    with pytest.raises(ValueError, match="whole number from"):
        Scenario(op="zap", scheme="range", refmode="off", **{field: value})


def test_a_blocked_thread_in_a_schedule_names_who_could_run():
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    with pytest.raises(ValueError, match=r"step 6: thread 'vm' is blocked .*runnable: fault, guest"):
        simulate(scenario, "fault,vm,vm,vm,vm,vm")


def test_an_unknown_thread_in_a_schedule_lists_the_threads():
    with pytest.raises(ValueError, match="threads: vm, fault, guest, allocator"):
        simulate(Scenario(op="zap", scheme="range", refmode="off"), "vm,cpu0")


def test_a_finished_thread_in_a_schedule_is_an_error():
    with pytest.raises(ValueError, match="'guest' has finished"):
        simulate(Scenario(op="zap", scheme="range", refmode="off"), "guest,guest")


def test_interleave_rejects_positions_outside_the_operation():
    scenario = Scenario(op="rmap", scheme="page", refmode="off")
    with pytest.raises(ValueError, match="from 0 to"):
        interleave(scenario, 0, 99)
    with pytest.raises(ValueError, match="before read_after"):
        interleave(scenario, 3, 1)


def test_cli_bad_name_exits_2_with_the_choices():
    result = subprocess.run([sys.executable, "-m", "labkit", "simulate", "--op", "zap", "--scheme", "x",
                             "--refmode", "off"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "scheme='x' is not valid; choose one of: none, page" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_scheme_that_drives_only_the_gru_refuses_another_secondary():
    """The gru scheme is the GRU driver's own: on KVM it would be a configuration no kernel had."""
    with pytest.raises(ValueError, match=r"scheme='gru' drives only secondary='gru', not 'kvm'"):
        Scenario(op="zap", scheme="gru", refmode="off", secondary="kvm")


def test_allocator_must_be_true_or_false():
    with pytest.raises(ValueError, match=r"allocator=0.0 is not valid; choose True or False"):
        Scenario(op="zap", scheme="range", refmode="off", allocator=0.0)


@pytest.mark.parametrize("schedule", [{"vm", "fault"}, {"vm": 1, "fault": 2}])
def test_a_schedule_without_an_order_is_refused(schedule):
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    with pytest.raises(ValueError, match="ordered list of thread names"):
        simulate(scenario, schedule)
