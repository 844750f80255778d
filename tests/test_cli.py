"""The command line, as a student or a kernel developer would type it."""
import subprocess
import sys

from labkit.cli import main
from labkit.core.invariants import INVARIANTS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verdicts_csv_has_exactly_the_documented_header_and_one_row_per_configuration(capsys):
    code, out, _ = run(capsys, "verdicts", "--csv")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == ("op,scheme,refmode,secondary,use_after_free,stale,refcount,sleep_in_atomic,states,seconds,"
                        "reclaim_defeated,stale_read,store_order")
    assert len(lines) == 1 + 3 * 6 * 4 * 3
    for line in lines[1:]:
        cells = line.split(",")
        assert all(cell in ("yes", "no") for cell in cells[4:8]), line
    assert "zap,range,off,kvm,yes,yes,no,no," in out
    assert "zap,range_seq,off,kvm,no,no,no,no," in out


def test_verdicts_can_be_narrowed(capsys):
    code, out, _ = run(capsys, "verdicts", "--csv", "--op", "rmap", "--scheme", "page,page_seq",
                       "--secondary", "xpmem")
    assert code == 0 and len(out.splitlines()) == 1 + 2 * 4


def test_explain_prints_numbered_steps_ending_in_plain_words(capsys):
    code, out, _ = run(capsys, "explain", "--op", "zap", "--scheme", "range", "--refmode", "off")
    assert code == 0
    assert "use_after_free: shortest schedule, 14 steps" in out
    assert "  9. [vm] zap_pte_range: ptep_get_and_clear_full" in out
    assert "pte[0] P -> none" in out
    assert "=> use after free: step 14: the guest uses page P through its spte, but page P was freed at step 11" in out


def test_explain_says_when_nothing_can_break(capsys):
    code, out, _ = run(capsys, "explain", "--op", "zap", "--scheme", "range_seq", "--refmode", "off")
    assert code == 0 and "no schedule breaks any invariant." in out


def test_explain_with_a_bound_says_the_search_stopped(capsys):
    code, out, err = run(capsys, "explain", "--op", "zap", "--scheme", "range_seq", "--refmode", "pin",
                         "--vcpus", "2", "--max-states", "40")
    assert code == 0
    assert "stopped at max_states=40" in err
    assert (f"unknown: {', '.join(INVARIANTS)} (no schedule of up to 3 steps breaks them; "
            "the search stopped at 40 states, before trying every schedule)") in out
    assert "no schedule breaks any invariant" not in out


def test_simulate_prints_the_trace_and_the_verdict(capsys):
    code, out, _ = run(capsys, "simulate", "--op", "rmap", "--scheme", "page", "--refmode", "off_under_ptl")
    assert code == 0
    assert "try_to_unmap_one: ptep_clear_flush" in out
    assert out.strip().endswith("violations: none")


def test_python_dash_m_labkit_runs():
    result = subprocess.run([sys.executable, "-m", "labkit", "verdicts", "--csv", "--op", "cow", "--scheme", "none",
                             "--refmode", "pin", "--secondary", "gru"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.splitlines()[1].startswith("cow,none,pin,gru,no,yes,no,no,")


def test_explain_ends_each_counterexample_with_a_line_that_replays_it(capsys):
    """The replay line is Python: pasted into a cell (after ``from labkit import *``) it runs the same schedule
    to the same violation."""
    cell = {}
    exec("from labkit import *", cell)            # noqa: S102 - what the README tells a notebook to do
    assert main(["explain", "--op", "zap", "--scheme", "range", "--refmode", "off", "--caller", "munmap"]) == 0
    replays = [line.split("replay: ", 1)[1] for line in capsys.readouterr().out.splitlines() if "replay: " in line]
    assert len(replays) == 2                      # use_after_free and stale
    for replay in replays:
        trace = eval(replay, cell)                # noqa: S307 - our own output, in a test
        assert trace.scenario.caller == "munmap"
        assert trace.violations[-1]


def test_the_readme_s_simulate_command_runs_and_shows_the_use_after_free():
    """README.md's command line example is copied from here: keep them equal."""
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    schedule = re.search(r"--schedule (\S+)", readme).group(1)
    assert main(["simulate", "--op", "zap", "--scheme", "range", "--refmode", "off", "--schedule", schedule]) == 0


def test_the_package_docstring_example_runs():
    import doctest

    import labkit
    assert doctest.testmod(labkit).failed == 0


def test_an_empty_name_in_a_list_is_an_error_naming_the_choices_not_all(capsys):
    for value in ("", "zap,", ",zap"):
        code, out, err = run(capsys, "verdicts", "--op", value)
        assert code == 2 and out == ""
        assert err == "error: op='' is not valid; choose one of: zap, rmap, cow, cow2\n", value


def test_choices_that_leave_no_configuration_are_an_error(capsys):
    code, _, err = run(capsys, "verdicts", "--scheme", "gru", "--secondary", "kvm")
    assert code == 2 and err.startswith("error: no configuration: schemes gru with refmodes off, pin, gup_release, "
                                        "off_under_ptl on secondaries kvm make no pair that can exist")


def test_verdicts_cut_short_say_unknown_and_say_so_on_stderr(capsys):
    code, out, err = run(capsys, "verdicts", "--csv", "--op", "zap", "--scheme", "range_seq", "--refmode", "pin",
                         "--secondary", "kvm", "--max-states", "10")
    assert code == 0
    assert out.splitlines()[1].startswith("zap,range_seq,pin,kvm,unknown,unknown,unknown,unknown,10,")
    assert err == ("note: 1 of 1 searches stopped at --max-states=10; their 'unknown' cells were not proven "
                   "either way (--max-states raises the bound)\n")


def test_a_usage_error_is_one_line_that_quotes_a_short_prefix(capsys):
    code, _, err = run(capsys, "simulate", "--op", "zap", "--scheme", "range", "--refmode", "off",
                       "--pages", "x" * 10**6)
    assert code == 2 and len(err.splitlines()) == 1 and len(err) < 200
    assert "argument --pages: 'xxxx" in err
    code, _, err = run(capsys, "explain", "--op", "zap", "--scheme", "range", "--refmode", "off", "--max-states", "0")
    assert code == 2 and "argument --max-states: 0 is not a positive number of states" in err


def test_a_long_thread_name_comes_back_as_a_short_prefix(capsys):
    code, _, err = run(capsys, "simulate", "--op", "zap", "--scheme", "range", "--refmode", "off",
                       "--schedule", "vm," + "x" * 10**6)
    assert code == 2 and len(err) < 200 and err.startswith("error: no thread named 'xxxx")


def test_progress_waits_a_second_then_speaks_at_most_once_a_second(monkeypatch, capsys):
    """Fast commands print nothing on stderr; a long one says how far it got, not more than once a second."""
    from labkit import cli

    now = [100.0]
    monkeypatch.setattr(cli.time, "perf_counter", lambda: now[0])
    progress = cli._Progress()
    report = progress.search("zap/range/off/kvm", None)
    for at, states in ((100.5, 10), (101.2, 20), (101.5, 30), (101.9, 40), (102.3, 50)):
        now[0] = at
        report(states, states * 2)
    assert capsys.readouterr().err.splitlines() == [
        "zap/range/off/kvm: 20 of at most 500000 states, 40 transitions so far",
        "zap/range/off/kvm: 50 of at most 500000 states, 100 transitions so far",
    ]
