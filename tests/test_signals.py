"""The command line as a Unix tool: Ctrl-C, a closed pipe, a full disk (each run as a real process)."""
import os
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


def interrupt(process: subprocess.Popen):
    """Send SIGINT; return (seconds until the process ended, stdout, stderr)."""
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return time.perf_counter() - sent, out, err


def test_ctrl_c_in_verdicts_keeps_the_finished_rows_and_says_where_it_stopped():
    process = start("verdicts", "--csv", "--vcpus", "2")
    header, rows = process.stdout.readline(), [process.stdout.readline() for _ in range(3)]
    seconds, out, err = interrupt(process)
    lines = [header, *rows, *out.splitlines(keepends=True)]
    assert process.returncode == 130
    assert seconds < 1, seconds
    assert lines[0].startswith("op,scheme,refmode,secondary,")
    finished = lines[1:-1]
    assert len(finished) >= 3 and all(line.count(",") == len(CSV_COLUMNS) - 1 for line in finished)
    assert lines[-1].startswith(f"# interrupted: {len(finished)} of 216 configurations searched")
    stderr = [line for line in err.splitlines() if not line.startswith("[")]      # progress lines begin "[n/216]"
    assert stderr == [f"interrupted: {len(finished)} of 216 configurations searched (their rows are printed)"]
    assert "Traceback" not in err


def test_ctrl_c_in_a_verdicts_table_prints_the_rows_it_had():
    process = start("verdicts", "--vcpus", "2")
    time.sleep(3)
    seconds, out, err = interrupt(process)
    assert process.returncode == 130 and seconds < 1, seconds
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["op", "scheme", "refmode", "secondary"]
    assert lines[-1].startswith(f"# interrupted: {len(lines) - 2} of 216 configurations searched")
    assert err.splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err


def test_ctrl_c_in_explain_ends_within_a_second_with_one_line():
    process = start("explain", *BIG)
    first = process.stderr.readline()        # progress: only once the search has run for a second
    assert "states" in first and "transitions so far" in first
    seconds, out, err = interrupt(process)
    assert process.returncode == 130 and seconds < 1, seconds
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
