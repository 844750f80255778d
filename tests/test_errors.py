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


def test_a_huge_value_comes_back_as_a_short_prefix():
    """A 1 MB thread name must not come back as a 1 MB message (nor an int too long to print, nor a line break)."""
    scenario = Scenario(op="zap", scheme="range", refmode="off")
    for call in (lambda: simulate(scenario, ["x" * 10**6]), lambda: Scenario(op="x" * 10**6, scheme="range",
                                                                                refmode="off"),
                 lambda: Scenario(op="zap", scheme="range", refmode="off", pages=10**5000),
                 lambda: Scenario(op="zap", scheme="range", refmode="off", era="a\nb")):
        with pytest.raises(ValueError) as error:
            call()
        assert len(str(error.value)) < 200 and "\n" not in str(error.value)


def test_shown_quotes_at_most_a_short_prefix_on_one_line():
    from labkit.core.messages import LIMIT, shown

    assert shown("stale") == "'stale'"
    assert len(shown("x" * 10**6)) <= LIMIT and shown("x" * 10**6).startswith("'xxx")
    assert len(shown(list(range(10**5)))) <= LIMIT
    assert shown(10**5000) == "<a whole number of about 5,001 digits>"
    assert shown("a\nb") == "'a\\nb'"


@pytest.mark.parametrize("schedule, words", [
    ("", "the schedule is empty"),
    (" , ", "the schedule is empty"),
    ("vm,,fault", "name 2 of the schedule 'vm,,fault' is empty"),
    ("vm,fault,", "name 3 of the schedule 'vm,fault,' is empty"),
    (iter(["vm"]), "a list_iterator is neither"),
    (5, "a int is neither"),
    (["vm", 3], "3 is not a name"),
])
def test_a_schedule_is_checked_at_the_door(schedule, words):
    with pytest.raises(ValueError, match=words):
        simulate(Scenario(op="zap", scheme="range", refmode="off"), schedule)


def test_an_empty_list_is_the_schedule_where_nothing_has_run_yet():
    trace = simulate(Scenario(op="zap", scheme="range", refmode="off"), [])
    assert trace.moves == () and len(trace.states) == 1


def test_interleave_checks_guest_after_and_its_scenario():
    scenario = Scenario(op="rmap", scheme="page", refmode="off")
    with pytest.raises(ValueError, match=r"guest_after='x' is not valid; it must be a whole number from 0 to"):
        interleave(scenario, 0, 1, guest_after="x")
    with pytest.raises(TypeError, match="interleave takes a labkit.Scenario, not the str 'zap'"):
        interleave("zap", 0, 1)


def test_verdicts_take_one_name_or_a_list_and_refuse_an_empty_one():
    from labkit import verdicts

    assert len(verdicts(ops="cow", schemes="none", refmodes="pin", secondaries="kvm")) == 1
    with pytest.raises(ValueError, match="ops is empty: name at least one of: zap, rmap, cow"):
        verdicts(ops=())
    with pytest.raises(TypeError, match="refmodes=5: give one name or a list of names from: off, pin"):
        verdicts(refmodes=5)


def test_verdicts_say_that_an_axis_is_named_in_the_plural():
    from labkit import verdicts

    with pytest.raises(ValueError, match=r"^op= is one of the matrix's axes: give ops='zap' \(one name or a list\)$"):
        verdicts(op="zap")
    with pytest.raises(ValueError, match=r"^'colour' is not a Scenario field; the fixed fields are: era, pages"):
        verdicts(colour="red")


@pytest.mark.parametrize("arguments, words", [
    ((1, -1), "verdicts=-1 is out of range; it must be a whole number from 0 to 72"),
    ((1, 73), "verdicts=73 is out of range"),
    ((1, "3"), "verdicts='3' is not valid"),
    ((None,), "seed=None would give every student other problems"),
    ((1.5,), "seed=1.5 is not valid; it must be a whole number of 0 or more or a string"),
])
def test_a_worksheet_refuses_a_bad_seed_or_count_in_words(arguments, words):
    from labkit.tables.exercises import worksheet

    with pytest.raises(ValueError) as error:
        worksheet(*arguments)
    assert str(error.value).startswith(words) and "\n" not in str(error.value)


def test_a_number_with_thousands_of_digits_on_the_command_line_is_out_of_range():
    run = subprocess.run([sys.executable, "-m", "labkit", "verdicts", "--pages", "1" * 5000],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == ""
    line, = run.stderr.splitlines()
    assert "argument --pages:" in line and "is out of range (a whole number of 5,000 digits)" in line
    assert "not a whole number" not in line and len(line) < 300


@pytest.mark.parametrize("make", [
    lambda: __import__("labkit.widgets", fromlist=["Lab"]).Lab(controls="a" * 10**6),
    lambda: __import__("labkit.widgets", fromlist=["Lab"]).Lab(controls=("a" * 10**6,)),
    lambda: __import__("labkit.widgets", fromlist=["Lab"]).Lab(**{"a" * 10**6: 1}),
    lambda: __import__("labkit.widgets", fromlist=["claim"]).claim("a" * 10**6),
    lambda: __import__("labkit.widgets", fromlist=["claim"]).claim("C4").answer("a" * 10**6),
    lambda: __import__("labkit", fromlist=["Scheme"]).Scheme(name="a" * 10**6, summary=""),
    lambda: __import__("labkit.tables.narrate", fromlist=["status"]).status(
        simulate(Scenario(op="zap", scheme="range", refmode="off")), "a" * 10**6),
], ids=["controls", "control name", "field name", "claim", "answer", "scheme name", "status step"])
def test_a_megabyte_of_input_comes_back_as_a_short_line(make):
    from labkit.core.messages import LIMIT

    with pytest.raises((ValueError, TypeError)) as error:
        make()
    text = str(error.value)
    assert "\n" not in text and len(text) <= 5 * LIMIT, len(text)
    assert "aaaa" in text and "..." in text


def test_a_widget_callback_error_is_shown_in_one_short_line():
    from labkit.core.messages import LIMIT
    from labkit.widgets.guard import readable

    assert len(readable(ValueError("x" * 10**6))) <= 4 * LIMIT
    assert len(readable(RuntimeError("line\n" * 10**5))) <= 4 * LIMIT
    assert "\n" not in readable(RuntimeError("line\n" * 10**5))
