"""How long the chapter pieces take in the kernel.  Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/pieces.py [--samples 40]

Kernel side only (no browser): the work a click or a control change makes the
kernel do before any message leaves it.  The floor is a plain slider move of
a Lab (``lab.move``), measured interleaved with the others in the same run,
so machine noise hits every row alike.  Samples alternate between two
placements so no call is answered from a cache it filled itself.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from labkit import Scenario  # noqa: E402
from labkit.widgets import Lab, claim, picture, windowmap  # noqa: E402

C4 = Scenario(op="zap", scheme="range", refmode="off")


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    samples = parser.parse_args().samples
    lab = Lab(C4, read_after=3, install_after=7)
    shown = windowmap(C4, 3, 7, controls=("refmode",))
    placements = [(3, 7), (0, 9)]
    refmodes = ["pin", "off"]
    rows = {name: [] for name in ("floor: lab.move (a slider move)", "window map: a click on a cell",
                                  "window map: refcount toggled (grid recomputed)",
                                  "claim: answer (grade + reveal the Lab)", "picture.story (SVG text)",
                                  "picture.two_page_tables (SVG text)")}
    for k in range(samples):
        read, install = placements[k % 2]
        rows["floor: lab.move (a slider move)"].append(timed(lambda: lab.move(read, install)))
        rows["window map: a click on a cell"].append(timed(lambda: shown.click(read, install)))
        refmode = refmodes[k % 2]
        rows["window map: refcount toggled (grid recomputed)"].append(
            timed(lambda: setattr(shown.lab.controls.refmode, "value", refmode)))
        preset = claim("C4")
        rows["claim: answer (grade + reveal the Lab)"].append(timed(lambda: preset.answer("yes")))
        rows["picture.story (SVG text)"].append(timed(lambda: picture.story(C4, read, install)))
        rows["picture.two_page_tables (SVG text)"].append(timed(lambda: picture.two_page_tables()))
    print(f"{samples} samples each, interleaved; milliseconds")
    print(f"{'what':50s} {'median':>8s} {'p90':>8s}")
    for name, values in rows.items():
        values.sort()
        print(f"{name:50s} {statistics.median(values):8.2f} {values[int(0.9 * (len(values) - 1))]:8.2f}")


if __name__ == "__main__":
    main()
