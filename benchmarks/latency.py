"""Latency of the lab in a real browser: key press on a slider -> the figure's SVG redrawn.

Starts JupyterLab on 127.0.0.1 (temporary HOME and JUPYTER_* folders), opens a
benchmark notebook in headless Debian chromium (Playwright, never
``playwright install``) and times, inside the page (a keydown listener and a
MutationObserver, so the driver's overhead is excluded), from the key press
to the SVG's first change ("first") and to its last change before 300 ms of
quiet ("redrawn": every mark has its new data):

* floor:    a bare bqplot Lines mark updated from a bare IntSlider via the kernel
* schedule: the lab's schedule slider (a new run: kernel round trip, every mark redrawn)
* cursor:   the lab's step slider (front end only: jslink to the veil's colour scale)
* play:     the Play widget at 10 steps/s, frames actually drawn per second

The lab is zap/range_seq/off from munmap, the configuration with the most
lanes (the fault's memory, two counters, three locks).  The three are
measured interleaved, one key press each in turn, so a change in the
machine's load touches all three alike.

    .venv/bin/python benchmarks/latency.py [--moves 60]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser.servers import Server, launch, open_and_run_all  # noqa: E402

CELLS = [
    "from labkit.widgets import Lab\n"
    "lab = Lab(op='zap', scheme='range_seq', refmode='off', caller='munmap', read_after=0, install_after=7)\nlab",
    "import bqplot as bq, ipywidgets as w\n"
    "sx, sy = bq.LinearScale(), bq.LinearScale()\n"
    "line = bq.Lines(x=list(range(20)), y=[0]*20, scales={'x': sx, 'y': sy})\n"
    "fig = bq.Figure(marks=[line], layout=w.Layout(height='200px'), animation_duration=0)\n"
    "fig.add_class('bare-figure')\n"
    "bare = w.IntSlider(min=0, max=40, value=20, description='bare')\nbare.add_class('bare-slider')\n"
    "bare.observe(lambda c: setattr(line, 'y', [(i * c['new']) % 7 for i in range(20)]), names='value')\n"
    "w.VBox([bare, fig])",
]

PATHS = {
    "floor: bare IntSlider -> Lines": (".bare-figure", ".bare-slider .noUi-handle"),
    "lab: schedule slider -> figure": (".labkit-lab .labkit-timeline", ".labkit-lab .labkit-schedule .noUi-handle-upper"),
    "lab: step cursor -> figure": (".labkit-lab .labkit-timeline", ".labkit-lab .labkit-cursor .noUi-handle"),
}

ARM = """([figure, handle]) => {
  const target = document.querySelector(figure);
  const key = document.querySelectorAll(handle);
  const h = key[key.length - 1];
  window.__lat = new Promise(resolve => {
    let t0, first, last, quiet;
    const done = () => { obs.disconnect(); resolve(first === undefined ? null : [first - t0, last - t0]); };
    const obs = new MutationObserver(() => {
      if (t0 === undefined) return;
      const now = performance.now();
      if (first === undefined) first = now;
      last = now;
      clearTimeout(quiet);
      quiet = setTimeout(done, 300);
    });
    obs.observe(target, {subtree: true, attributes: true, childList: true, characterData: true});
    h.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
    setTimeout(done, 5000);
  });
}"""


def measure_once(page, figure: str, handle: str, key: str):
    page.evaluate(ARM, [figure, handle])
    page.locator(handle).last.focus()
    page.keyboard.press(key)
    return page.evaluate("() => window.__lat")


def summary(name: str, samples: list) -> dict:
    def stats(values):
        values = sorted(values)
        return statistics.median(values), values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    first, redrawn = stats([s[0] for s in samples]), stats([s[1] for s in samples])
    print(f"{name:<32} n={len(samples):3d}  first change: median {first[0]:6.1f} ms, p95 {first[1]:6.1f} ms   "
          f"redrawn: median {redrawn[0]:6.1f} ms, p95 {redrawn[1]:6.1f} ms")
    return {"first": first[0], "redrawn": redrawn[0]}


PLAY = """async () => {
  const veil = () => Array.from(document.querySelector('.labkit-lab .labkit-timeline').querySelectorAll('g.curve path.line'))
      .filter(p => parseFloat(getComputedStyle(p).strokeWidth) > 100).map(p => p.style.stroke).join();
  const frames = []; let last = veil();
  const obs = new MutationObserver(() => { const now = veil(); if (now !== last) { last = now; frames.push(performance.now()); } });
  obs.observe(document.querySelector('.labkit-lab .labkit-timeline'), {subtree: true, attributes: true});
  await new Promise(r => setTimeout(r, 1500));
  obs.disconnect();
  return frames;
}"""


def play(page) -> None:
    page.locator(".labkit-lab .labkit-cursor .noUi-handle").focus()
    page.keyboard.press("Home")
    page.locator(".labkit-lab .widget-dropdown", has_text="speed").locator("select").select_option(label="10 steps/s")
    page.wait_for_timeout(500)
    page.locator(".labkit-lab .widget-play button").first.click()
    frames = page.evaluate(PLAY)
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    if gaps:
        print(f"play at 10 steps/s: {len(frames)} frames in 1.5 s, median gap {statistics.median(gaps):.0f} ms, "
              f"max gap {max(gaps):.0f} ms ({'keeps up' if statistics.median(gaps) < 130 else 'falls behind'})")
    else:
        print("play: no frames seen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=60, help="key presses per path (at least 30)")
    args = parser.parse_args()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path("/tmp") / f"labkit-bench-{time.time_ns()}.ipynb"
    nbformat.write(nb, path)
    server = Server("lab", {"bench.ipynb": path})
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            open_and_run_all(page, server, "bench.ipynb", 1)
            page.wait_for_selector(".bare-figure svg.svg-figure")
            page.wait_for_timeout(1000)
            print(f"JupyterLab {server.url('')[:30]}..., chromium headless, {args.moves} moves per path, interleaved")
            samples = {name: [] for name in PATHS}
            for i in range(args.moves):
                for name, (figure, handle) in PATHS.items():
                    # each schedule move puts the cursor at the run's end (or its first broken step): go left
                    key = "ArrowLeft" if "cursor" in name else ("ArrowLeft", "ArrowRight")[i % 2]
                    value = measure_once(page, figure, handle, key)
                    if value is not None:
                        samples[name].append(value)
                    page.wait_for_timeout(300)     # the kernel's answers to this key land before the next one
            results = {name: summary(name, values) for name, values in samples.items()}
            floor, schedule, cursor = (results[name] for name in PATHS)
            print(f"ratio to the floor, redrawn: schedule {schedule['redrawn'] / floor['redrawn']:.2f}, "
                  f"cursor {cursor['redrawn'] / floor['redrawn']:.2f}; first change: schedule "
                  f"{schedule['first'] / floor['first']:.2f}, cursor {cursor['first'] / floor['first']:.2f} "
                  "(target: schedule at most 1)")
            play(page)
            browser.close()
    finally:
        server.stop()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
