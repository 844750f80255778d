"""The command line as a Unix tool: Ctrl-C, SIGTERM, a closed pipe or stdout, a full disk, a size limit.

Each case runs ``python -m labkit`` as a real process.  No test here times
anything: a timeout only stops a process that would hang.
"""
import csv
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from labkit.search.verdicts import CSV_COLUMNS

LABKIT = [sys.executable, "-m", "labkit"]
#: A search far past a second: three faulting vCPUs on eight pages.
BIG = ["--op", "rmap", "--scheme", "range_seq", "--refmode", "pin", "--vcpus", "3", "--pages", "8",
       "--accesses", "4", "--attempts", "4"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /dev/full")


def start(*argv) -> subprocess.Popen:
    return subprocess.Popen(LABKIT + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt(process: subprocess.Popen, *signals, gap: float = 0.0):
    """Send each signal (SIGINT by default), ``gap`` seconds apart; return (stdout, stderr) once it has ended."""
    for number, sent in enumerate(signals or (signal.SIGINT,)):
        if number:
            time.sleep(gap)
        process.send_signal(sent)
    return process.communicate(timeout=60)


def whole_rows(lines) -> list:
    """The CSV rows among ``lines`` (not the header, not a ``#`` line), each checked to have every column."""
    rows = [line for line in lines[1:] if not line.startswith("#")]
    for cells in csv.reader(rows):
        assert len(cells) == len(CSV_COLUMNS), cells
    return rows


def test_ctrl_c_in_verdicts_keeps_the_finished_rows_and_says_where_it_stopped():
    process = start("verdicts", "--csv", "--vcpus", "2")
    header, rows = process.stdout.readline(), [process.stdout.readline() for _ in range(3)]
    out, err = interrupt(process)
    lines = [header, *rows, *out.splitlines(keepends=True)]
    assert process.returncode == 130
    assert lines[0].startswith("op,scheme,refmode,secondary,")
    finished = whole_rows(lines[:-1])
    assert len(finished) >= 3
    assert lines[-1].startswith(f"# interrupted: {len(finished)} of 216 configurations searched")
    stderr = [line for line in err.splitlines() if not line.startswith("[")]      # progress lines begin "[n/216]"
    assert stderr == [f"interrupted: {len(finished)} of 216 configurations searched (their rows are printed)"]
    assert "Traceback" not in err


def test_ctrl_c_in_a_verdicts_table_prints_the_rows_it_had():
    process = start("verdicts", "--vcpus", "2")
    time.sleep(3)
    out, err = interrupt(process)
    assert process.returncode == 130
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["op", "scheme", "refmode", "secondary"]
    assert lines[-1].startswith(f"# interrupted: {len(lines) - 2} of 216 configurations searched")
    assert err.splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err


@pytest.mark.parametrize("gap", [0.0, 0.005, 0.02])
@pytest.mark.parametrize("table", [["--csv"], []], ids=["csv", "table"])
def test_two_ctrl_cs_in_a_row_still_print_the_finished_rows_and_the_marker(table, gap):
    process = start("verdicts", *table, "--vcpus", "2")
    if table:
        process.stdout.readline()
        process.stdout.readline()            # the header and a first row: the search is under way
    else:
        seen = process.stderr.readline()            # progress: the search is under way
    out, err = interrupt(process, signal.SIGINT, signal.SIGINT, gap=gap)
    if not table:
        err = seen + err
    assert process.returncode == 130, err
    assert out.splitlines()[-1:] and out.splitlines()[-1].startswith("# interrupted: "), (out[-300:], err[-300:])
    assert "configurations searched" in out
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if not line.startswith("[")][-1].startswith("interrupted: ")


def test_sigterm_in_verdicts_ends_with_the_finished_rows_a_marker_and_143():
    process = start("verdicts", "--csv", "--vcpus", "2")
    header, first = process.stdout.readline(), process.stdout.readline()
    out, err = interrupt(process, signal.SIGTERM)
    lines = [header, first, *out.splitlines(keepends=True)]
    assert process.returncode == 143
    finished = whole_rows(lines[:-1])
    assert lines[-1].startswith(f"# terminated: {len(finished)} of 216 configurations searched")
    stderr = [line for line in err.splitlines() if not line.startswith("[")]
    assert stderr == [f"terminated: {len(finished)} of 216 configurations searched (their rows are printed)"]


def test_sigterm_in_explain_ends_with_one_line_and_143():
    process = start("explain", *BIG)
    process.stderr.readline()                # progress: the search is under way
    out, err = interrupt(process, signal.SIGTERM)
    assert process.returncode == 143 and out == ""
    last = [line for line in err.splitlines() if "so far" not in line]
    assert len(last) == 1 and last[0].startswith("terminated: the search of rmap/range_seq/pin/kvm stopped after")


def test_ctrl_c_in_explain_ends_with_one_line():
    process = start("explain", *BIG)
    first = process.stderr.readline()        # progress: only once the search has run for a second
    assert "states" in first and "transitions so far" in first
    out, err = interrupt(process)
    assert process.returncode == 130
    assert out == ""
    last = [line for line in err.splitlines() if "so far" not in line]
    assert len(last) == 1 and last[0].startswith("interrupted: the search of rmap/range_seq/pin/kvm stopped after")


def test_a_closed_pipe_ends_quietly():
    """``python -m labkit verdicts --csv | head -1``: the reader goes away; no BrokenPipeError traceback."""
    process = start("verdicts", "--csv")
    process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 141
    assert err == ""


def test_simulate_into_a_pipe_closed_before_it_writes_ends_quietly():
    reader, writer = os.pipe()
    os.close(reader)
    run = subprocess.run(LABKIT + ["simulate", "--op", "zap", "--scheme", "range", "--refmode", "off"],
                         stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(writer)
    assert run.returncode == 141 and run.stderr == ""


@pytest.mark.parametrize("argv", [
    ["simulate", "--op", "zap", "--scheme", "range", "--refmode", "off"],
    ["verdicts", "--csv", "--op", "zap"],
    ["explain", "--op", "zap", "--scheme", "range", "--refmode", "off"],
])
def test_an_unwritable_output_gives_one_line_and_a_failure(argv):
    with open("/dev/full", "w") as full:
        run = subprocess.run(LABKIT + argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["error: cannot write the output: No space left on device"]


@pytest.mark.parametrize("argv", [
    ["simulate", "--op", "zap", "--scheme", "range", "--refmode", "off"],
    ["verdicts", "--csv", "--op", "zap"],
    ["explain", "--op", "zap", "--scheme", "range", "--refmode", "off"],
])
def test_a_closed_stdout_gives_one_line_and_a_failure(argv):
    """``python -m labkit ... >&-``: Python starts with no stdout at all."""
    run = subprocess.run(LABKIT + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
                         preexec_fn=lambda: os.close(1))
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["error: cannot write the output: stdout is closed"]


def limited(size: int):
    """For preexec_fn: a file-size limit of ``size`` bytes (``ulimit -f``), for this process only."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


@pytest.mark.parametrize("size", [700, 3000])
def test_a_file_size_limit_leaves_whole_rows_and_a_line_that_says_where_it_stopped(tmp_path, size):
    path = tmp_path / "verdicts.csv"
    with open(path, "w") as file:
        run = subprocess.run(LABKIT + ["verdicts", "--csv"], stdout=file, stderr=subprocess.PIPE, text=True,
                             timeout=120, preexec_fn=limited(size))
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["error: cannot write the output: File too large"]
    lines = path.read_text().splitlines()
    rows = whole_rows(lines)
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[-1] == f"# cut: {len(rows)} of 216 rows written; the output could not take more (File too large)"
    assert path.stat().st_size <= size


def test_a_file_size_limit_cuts_explain_between_counterexamples(tmp_path):
    path = tmp_path / "explain.txt"
    argv = ["explain", "--op", "zap", "--scheme", "range", "--refmode", "off"]
    whole = subprocess.run(LABKIT + argv, capture_output=True, text=True, timeout=60).stdout
    first = whole.split("\n\n")[0] + "\n"            # the summary line, before the first counterexample
    with open(path, "w") as file:
        run = subprocess.run(LABKIT + argv, stdout=file, stderr=subprocess.PIPE, text=True, timeout=60,
                             preexec_fn=limited(len(first) + 300))
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["error: cannot write the output: File too large"]
    lines = path.read_text().splitlines()
    assert lines[0].startswith("zap/range/off/kvm (2.6.27): ") and lines[0].endswith(" s")
    assert lines[1:] == ["# the output could not take more (File too large)"]


def test_a_piece_that_fails_halfway_into_a_file_is_cut_off_again(tmp_path, monkeypatch):
    """A full disk: the write that fails has put half a row into the file; the file ends with the last whole one."""
    from labkit.cli import Output

    path = tmp_path / "out.csv"
    with open(path, "w") as stream:
        out = Output(stream)
        out.write("op,scheme\n")
        out.write("zap,range\n")
        real, calls = os.write, []

        def full(fd, data):
            calls.append(len(data))
            if len(calls) > 1:
                raise OSError(28, os.strerror(28))
            return real(fd, bytes(data[:3]))                 # half a row reaches the disk
        monkeypatch.setattr(os, "write", full)
        with pytest.raises(OSError):
            out.write("rmap,page\n")
        monkeypatch.setattr(os, "write", real)
        out.write("cow,none\n")                              # the next piece lands where the cut one began
    assert path.read_text() == "op,scheme\nzap,range\ncow,none\n"


def test_csv_fields_are_quoted_as_csv_needs():
    """A name with a comma (no registered scheme can have one now) would still make one field, not two."""
    from labkit.search.verdicts import csv_header, csv_line

    values = {column: "yes" for column in CSV_COLUMNS}
    values.update(op="zap", scheme='a,b "c"', refmode="off", secondary="kvm", states=12, seconds=0.5)
    line = csv_line(values)
    cells, = csv.reader([line])
    assert len(cells) == len(CSV_COLUMNS) and cells[1] == 'a,b "c"' and line.endswith("\n")
    assert csv_header() == ",".join(CSV_COLUMNS) + "\n"
