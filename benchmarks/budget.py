"""What does a stored state cost, and how far can a search go by default?  Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/budget.py           # about two minutes on one core

Each measurement runs in a fresh interpreter, so its peak resident set
(``ru_maxrss``) belongs to that search alone: the search grows a scenario
far larger than any default one (three faulting vCPUs, eight or sixteen
pages, four accesses and attempts) until ``max_states`` stops it.  Bytes per
state is (peak RSS after the search - RSS before it) / states stored, which
counts everything the search holds: the states, the parent links, the queue,
the dict's spare room and the allocator's.  ``tracemalloc``'s peak (Python
objects only) is printed beside it as a cross-check.  The last lines divide
the default budget (``labkit.search.explore.DEFAULT_MAX_STATES``) by the worst
figure, and run one default search to its end (the budget stops it).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from labkit.search.explore import DEFAULT_MAX_STATES, STATE_BYTES  # noqa: E402

#: Scenarios whose state space is far larger than the budget: every op, every driver, both callers.
GROWING = (
    dict(op="rmap", scheme="range_seq", refmode="pin", vcpus=3, pages=8, accesses=4, attempts=4),
    dict(op="rmap", scheme="range_seq", refmode="pin", vcpus=3, pages=16, accesses=4, attempts=4),
    dict(op="zap", scheme="range_seq", refmode="gup_release", secondary="gru", vcpus=3, pages=16, accesses=4,
         attempts=4),
    dict(op="zap", scheme="range_seq", refmode="pin", vcpus=3, pages=8, accesses=4, attempts=4, caller="munmap"),
    dict(op="zap", scheme="range_block", refmode="off", secondary="xpmem", vcpus=3, pages=8, accesses=4,
         attempts=4, era="2017"),
    dict(op="cow2", scheme="range_seq", refmode="off", vcpus=3, pages=8, accesses=4, attempts=4, era="2017"),
)


def one(fields: dict, max_states: int, traced: bool) -> dict:
    """Run one bounded search here and return its numbers (called in a fresh interpreter)."""
    import resource
    import time
    import tracemalloc

    from labkit import Scenario, build, explore

    scenario = Scenario(**fields)
    build(scenario)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = explore(scenario, max_states=max_states)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(label=scenario.label(), states=result.states, complete=result.complete, seconds=seconds,
                rss=peak - before, peak=peak, traced=traced_peak)


def measure(fields: dict, max_states: int, traced: bool = False) -> dict:
    command = [sys.executable, __file__, "--one", json.dumps(fields), str(max_states)]
    command += ["--traced"] if traced else []
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("FIELDS", "MAX_STATES"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one[0]), int(args.one[1]), args.traced)))
        return
    print(f"python {platform.python_version()} on {platform.machine()}; default budget "
          f"DEFAULT_MAX_STATES = {DEFAULT_MAX_STATES:,} states")
    print(f"{'scenario (vcpus=3, accesses=4, attempts=4)':58s} {'states':>8s} {'RSS B/state':>11s} "
          f"{'traced B/state':>14s} {'seconds':>7s}")
    worst = 0.0
    for fields in GROWING:
        size = 200_000
        rss = measure(fields, size)
        traced = measure(fields, size, traced=True)
        per_state = rss["rss"] / rss["states"]
        worst = max(worst, per_state)
        name = f"{rss['label']} pages={fields['pages']}"
        print(f"{name:58s} {rss['states']:8d} {per_state:11.0f} {traced['traced'] / traced['states']:14.0f} "
              f"{rss['seconds']:7.1f}")
    print()
    print(f"worst: {worst:.0f} bytes per stored state (labkit's STATE_BYTES says {STATE_BYTES}); the default "
          f"budget of {DEFAULT_MAX_STATES:,} states is then {DEFAULT_MAX_STATES * worst / 1e6:.0f} MB "
          f"({DEFAULT_MAX_STATES * STATE_BYTES / 1e6:.0f} MB at STATE_BYTES) on top of the interpreter")
    full = measure(GROWING[0], DEFAULT_MAX_STATES)
    print(f"a default search of {full['label']} pages={GROWING[0]['pages']}: {full['states']:,} states "
          f"({'complete' if full['complete'] else 'stopped: unknown'}) in {full['seconds']:.1f} s, "
          f"search {full['rss'] / 1e6:.0f} MB, process peak RSS {full['peak'] / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
