"""How fast is the exhaustive explorer?  Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/explore.py            # the default matrix, per configuration
    .venv/bin/python benchmarks/explore.py --scaling  # also: how states and time grow with each knob

Targets (issue 3): the whole default matrix in under 5 s on one core, the
biggest single default configuration under 1 s.  Each configuration is
searched from a cold model cache, so the time includes building the threads.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import labkit  # noqa: E402
from labkit.scenario import build  # noqa: E402
from labkit.search.explore import explore  # noqa: E402
from labkit.search.verdicts import configurations  # noqa: E402


def matrix() -> None:
    build.cache_clear()
    rows, started = [], time.perf_counter()
    for scenario in configurations():
        result = explore(scenario)
        rows.append((scenario.label(), result.states, result.transitions, result.seconds))
    total = time.perf_counter() - started
    print(f"{'configuration':40s} {'states':>7s} {'transitions':>11s} {'seconds':>8s} {'states/s':>9s}")
    for label, states, transitions, seconds in rows:
        print(f"{label:40s} {states:7d} {transitions:11d} {seconds:8.4f} {states / seconds:9.0f}")
    states = sum(r[1] for r in rows)
    biggest = max(rows, key=lambda r: r[1])
    slowest = max(rows, key=lambda r: r[3])
    print()
    print(f"matrix: {len(rows)} configurations, {states} states, {sum(r[2] for r in rows)} transitions, "
          f"{total:.2f} s wall, {states / total:.0f} states/s")
    print(f"biggest: {biggest[0]} {biggest[1]} states in {biggest[3]:.4f} s; "
          f"slowest: {slowest[0]} {slowest[3]:.4f} s")
    started = time.perf_counter()
    labkit.verdicts()
    print(f"labkit.verdicts() (the DataFrame the CLI prints): {time.perf_counter() - started:.2f} s")


def scaling() -> None:
    base = dict(op="zap", scheme="range_seq", refmode="gup_release", secondary="gru")
    print()
    print(f"scaling from {base} (defaults: pages=1 vcpus=1 accesses=1 attempts=2)")
    print(f"{'knob':10s} {'value':>5s} {'states':>9s} {'transitions':>12s} {'seconds':>8s}")
    for knob, values in (("pages", (1, 2, 3, 4)), ("vcpus", (1, 2, 3)), ("accesses", (1, 2, 3, 4)),
                         ("attempts", (1, 2, 3, 4))):
        for value in values:
            result = explore(labkit.Scenario(**base, **{knob: value}), max_states=3_000_000)
            flag = "" if result.complete else "  (stopped at max_states)"
            print(f"{knob:10s} {value:5d} {result.states:9d} {result.transitions:12d} {result.seconds:8.3f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaling", action="store_true")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores "
          "(the search is single-threaded)")
    matrix()
    if args.scaling:
        scaling()


if __name__ == "__main__":
    main()
