"""Reading a Lab back from the page, and what labkit says the page should show for it.

``read(page)`` collects what a student sees (the controls' values, the
schedule slider's positions, the cursor, the status line, the verdict, the
message); ``expected_status(seen)`` recomputes, with labkit in the test's
process, the status line of the slider's run of that configuration.  A page
whose status line equals it shows exactly what the kernel computes for the
configuration its controls show.
"""
from __future__ import annotations

import re
import time

from labkit import Scenario, simulate
from labkit.search.schedules import interleave
from labkit.tables.narrate import status
from labkit.widgets.controls import OP_WORDS

DROPDOWNS = {"notifier": "scheme", "secondary MMU": "secondary", "era": "era", "free pages": "release",
             "zap from": "caller"}
TOGGLES = {"VM operation": "op", "refcount": "refmode"}

READ = """(root) => {
  const lab = document.querySelector(root);
  const text = sel => { const e = lab.querySelector(sel); return e ? e.innerText.trim() : ''; };
  const seen = {dropdowns: {}, toggles: {}};
  lab.querySelectorAll('.labkit-controls .widget-dropdown').forEach(d => {
    seen.dropdowns[d.querySelector('label').innerText.trim()] = d.querySelector('select').value; });
  lab.querySelectorAll('.labkit-controls .widget-toggle-buttons').forEach(t => {
    const active = t.querySelector('button.mod-active');
    seen.toggles[t.querySelector('label').innerText.trim()] = active ? active.innerText.trim() : null; });
  seen.placement = text('.labkit-placement');
  seen.cursor = text('.labkit-cursor .widget-readout');
  seen.status = text('.labkit-status-line');
  seen.verdict = text('.labkit-verdict');
  seen.message = text('.labkit-message');
  seen.worst = text('.labkit-worst');
  const toggle = Array.from(lab.querySelectorAll('button')).find(b => b.innerText.includes('you are the scheduler'));
  seen.scheduling = toggle ? toggle.classList.contains('mod-active') : false;
  seen.steps = (seen.verdict.match(/\\((\\d+) steps\\)/) || [null, null])[1];
  const fig = lab.querySelector('.labkit-timeline svg.svg-figure');
  seen.veil = fig ? Array.from(fig.querySelectorAll('g.curve path.line'))
      .filter(p => parseFloat(getComputedStyle(p).strokeWidth) > 100).length : 0;
  return seen;
}"""


def read(page, root: str = ".labkit-lab") -> dict:
    return page.evaluate(READ, root)


def scenario_of(seen: dict) -> Scenario:
    """The configuration the page's controls show (fields the page has no control for keep their defaults)."""
    words = {text: op for op, text in OP_WORDS.items()}
    fields = {field: seen["dropdowns"][label] for label, field in DROPDOWNS.items() if label in seen["dropdowns"]}
    for label, field in TOGGLES.items():
        value = seen["toggles"].get(label)
        if value is not None:
            fields[field] = words.get(value, value)
    return Scenario(**fields)


def placement_of(seen: dict) -> tuple:
    found = re.search(r"reads the pte (\d+):.*installs its entry (\d+):", seen["placement"])
    return int(found.group(1)), int(found.group(2))


def expected_status(seen: dict) -> str:
    """The status line labkit computes for the slider's run of the configuration the page shows."""
    scenario = scenario_of(seen)
    trace = simulate(scenario, interleave(scenario, *placement_of(seen)))
    return status(trace, int(seen["cursor"]))


def settle(page, root: str = ".labkit-lab", quiet_ms: int = 1200, timeout_s: float = 30) -> dict:
    """Wait until what the page shows has stopped changing for ``quiet_ms`` (the kernel has caught up)."""
    deadline = time.monotonic() + timeout_s
    last, since = read(page, root), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        now = read(page, root)
        if now != last:
            last, since = now, time.monotonic()
        elif (time.monotonic() - since) * 1000 >= quiet_ms:
            return now
    return last
