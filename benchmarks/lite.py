"""How big the JupyterLite site is, how long it takes to build, and what a first visit downloads.

Prints
  1. the clean build time and size of the default site (Pyodide from its CDN)
     and of the offline site (Pyodide's core in the site), each built twice
     by lite/build.py into a temporary folder (downloads cached in lite/cache/
     after the first);
  2. the first-load download, from the network log the browser smoke test
     writes (test-artifacts/lite-network.json: what the test's static server
     sent, uncompressed), by kind of file and at each milestone, with what
     gzip at level 6 would make of the same files (an estimate of a
     compressing host; nothing here measures one).

Run:  make test (or its browser smoke test)        # writes the network log
      .venv-lite/bin/python benchmarks/lite.py [--skip-build]     # builds with the Python running it
"""

import argparse
import collections
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "test-artifacts" / "lite-network.json"


def build(offline: bool) -> tuple[float, float, int]:
    """(seconds, MB, files) for one clean build, 'jupyter lite check' included."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "site"
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "lite" / "build.py"), "--output", str(output),
                        *(["--offline"] if offline else [])], check=True, capture_output=True)
        seconds = time.monotonic() - started
        files = [p for p in output.rglob("*") if p.is_file()]
        return seconds, sum(p.stat().st_size for p in files) / 1e6, len(files)


def kind(path: str) -> str:
    if path.startswith("/static/pyodide/"):
        return "Pyodide core" if not path.endswith(".whl") else "wheels the kernel loads at start"
    if path.endswith(".whl"):
        return "labkit and widget wheels"
    return "JupyterLab, extensions, notebooks"


def first_load() -> None:
    if not LOG.exists():
        print(f"\n{LOG.relative_to(ROOT)} is missing: run the browser smoke test first "
              "(.venv/bin/python -m pytest tests/browser/test_lite_browser.py)")
        return
    log = json.loads(LOG.read_text())
    site = Path(log["site"])
    raw, packed, count = collections.Counter(), collections.Counter(), collections.Counter()
    for entry in log["sent"]:
        path = urlsplit(entry["path"]).path
        raw[kind(path)] += entry["bytes"]
        count[kind(path)] += 1
        file = site / path.lstrip("/")
        file = file / "index.html" if path.endswith("/") else file
        if entry["status"] == 200 and file.is_file():
            packed[kind(path)] += len(gzip.compress(file.read_bytes(), 6))
    print("\nFirst load of the offline site (the smoke test's network log):")
    print(f"  {'kind':36} {'requests':>8} {'sent MB':>8} {'gzip MB':>8}")
    for name in raw:
        print(f"  {name:36} {count[name]:8d} {raw[name] / 1e6:8.2f} {packed[name] / 1e6:8.2f}")
    print(f"  {'total':36} {sum(count.values()):8d} {sum(raw.values()) / 1e6:8.2f} {sum(packed.values()) / 1e6:8.2f}")
    for milestone, at in log["milestones"].items():
        print(f"  {milestone}: {at['requests']} requests, {at['megabytes']} MB, {at['seconds']} s after opening the page")
    print(f"  requests that tried to leave 127.0.0.1: {len(log['outside'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="only summarise the network log")
    args = parser.parse_args()
    if not args.skip_build:
        for offline in (False, True):
            runs = [build(offline) for _ in range(2)]
            label = "offline site (Pyodide's core inside)" if offline else "default site (Pyodide from its CDN)"
            print(f"{label}: {runs[-1][1]:.1f} MB in {runs[-1][2]} files; clean builds "
                  + ", ".join(f"{s:.1f} s" for s, _, _ in runs))
    first_load()


if __name__ == "__main__":
    main()
