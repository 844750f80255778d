"""Latency of the lab in a real browser: key press on a slider -> the figure's SVG changes.

Starts JupyterLab on 127.0.0.1 (temporary HOME and JUPYTER_* folders), opens a
benchmark notebook in headless Debian chromium (Playwright, never
``playwright install``) and times, inside the page (a keydown listener and a
MutationObserver, so the driver's overhead is excluded):

* floor:    a bare bqplot Lines mark updated from a bare IntSlider via the kernel
* schedule: the lab's schedule slider (new trace: kernel round trip, every mark redrawn)
* cursor:   the lab's step slider (front end only: jslink to the veil's colour scale)
* play:     the Play widget at 10 steps/s, frames actually drawn per second

    .venv/bin/python benchmarks/latency.py [--moves 40]
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
    "from labkit.widgets import Lab\nlab = Lab(op='zap', scheme='range', refmode='off', read_after=0, install_after=7)\nlab",
    "import bqplot as bq, ipywidgets as w\n"
    "sx, sy = bq.LinearScale(), bq.LinearScale()\n"
    "line = bq.Lines(x=list(range(20)), y=[0]*20, scales={'x': sx, 'y': sy})\n"
    "fig = bq.Figure(marks=[line], layout=w.Layout(height='200px'), animation_duration=0)\n"
    "fig.add_class('bare-figure')\n"
    "bare = w.IntSlider(min=0, max=40, value=20, description='bare')\nbare.add_class('bare-slider')\n"
    "bare.observe(lambda c: setattr(line, 'y', [(i * c['new']) % 7 for i in range(20)]), names='value')\n"
    "w.VBox([bare, fig])",
]

ARM = """([figure, handle]) => {
  const target = document.querySelector(figure);
  const key = document.querySelectorAll(handle);
  const h = key[key.length - 1];
  window.__lat = new Promise(resolve => {
    let t0;
    const obs = new MutationObserver(() => {
      if (t0 !== undefined) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(target, {subtree: true, attributes: true, childList: true, characterData: true});
    h.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
    setTimeout(() => { obs.disconnect(); resolve(null); }, 5000);
  });
}"""


def measure(page, figure: str, handle: str, moves: int, keys=("ArrowLeft", "ArrowRight")) -> list:
    times = []
    for i in range(moves):
        page.evaluate(ARM, [figure, handle])
        page.locator(handle).last.focus()
        page.keyboard.press(keys[i % 2])
        value = page.evaluate("() => window.__lat")
        if value is not None:
            times.append(value)
        page.wait_for_timeout(150)       # let the kernel settle so moves do not overlap
    return times


def summary(name: str, times: list) -> dict:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"{name:<34} n={len(times):3d}  median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")
    return {"median": statistics.median(times), "p95": p95}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=40, help="key presses per measurement (at least 30)")
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
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            open_and_run_all(page, server, "bench.ipynb", 1)
            page.wait_for_selector(".bare-figure svg.svg-figure")
            page.wait_for_timeout(1000)
            print(f"JupyterLab {server.url('')[:30]}..., chromium headless, {args.moves} moves each")
            floor = summary("floor: bare IntSlider -> Lines", measure(page, ".bare-figure", ".bare-slider .noUi-handle", args.moves))
            sched = summary("lab: schedule slider -> figure", measure(page, ".labkit-lab .labkit-timeline",
                                                                  ".labkit-lab .widget-hslider .noUi-handle-upper", args.moves))
            cursor = summary("lab: step cursor -> figure", measure(page, ".labkit-lab .labkit-timeline",
                                                               ".labkit-lab .widget-play ~ .widget-hslider .noUi-handle, "
                                                               ".labkit-lab .widget-hslider .noUi-handle:not(.noUi-handle-lower):not(.noUi-handle-upper)",
                                                               args.moves))
            print(f"ratio schedule/floor {sched['median'] / floor['median']:.2f}   "
                  f"cursor/floor {cursor['median'] / floor['median']:.2f}   (target: at most 1.2)")
            page.locator(".labkit-lab .widget-hslider .noUi-handle").last.focus()
            for _ in range(20):
                page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(500)
            page.locator(".labkit-lab .widget-play button").first.click()      # play at 10 steps/s (the default)
            frames = page.evaluate(PLAY)
            gaps = [b - a for a, b in zip(frames, frames[1:])]
            if gaps:
                print(f"play at 10 steps/s: {len(frames)} frames in 1.5 s, median gap {statistics.median(gaps):.0f} ms, "
                      f"max gap {max(gaps):.0f} ms ({'keeps up' if statistics.median(gaps) < 130 else 'falls behind'})")
            else:
                print("play: no frames seen")
            browser.close()
    finally:
        server.stop()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
