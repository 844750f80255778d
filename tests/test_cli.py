"""The command line, as a student or a kernel developer would type it."""
import subprocess
import sys

from labkit.cli import main


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
    assert "no violation found before the bound" in out


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
    """The replay line is Python: pasted into a cell it runs the same schedule to the same violation."""
    import labkit

    assert main(["explain", "--op", "zap", "--scheme", "range", "--refmode", "off", "--caller", "munmap"]) == 0
    replays = [line.split("replay: ", 1)[1] for line in capsys.readouterr().out.splitlines() if "replay: " in line]
    assert len(replays) == 2                      # use_after_free and stale
    for replay in replays:
        trace = eval(replay, vars(labkit))        # noqa: S307 - our own output, in a test
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
