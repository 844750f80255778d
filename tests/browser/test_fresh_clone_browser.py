"""A fresh clone, opened in JupyterLab without running anything, shows chapter 00's stored figures.

The notebooks are committed with their outputs: SVG pictures, and widgets with
their saved state.  JupyterLab renders an *untrusted* notebook's SVG and widget
outputs as their plain-text fallback ("Picture of the two page tables ..."),
and a notebook is trusted only by a signature in the user's own store.  `make
lab` runs `make trust` (jupyter trust) for that; this test runs the same step
in a clone of the repository and looks at the page before and after it.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

from .conftest import open_page
from .servers import BIN, ROOT, Server

pytestmark = pytest.mark.browser
NOTEBOOK = "00_start_here.ipynb"
SVG = "image/svg+xml"
WIDGET = "application/vnd.jupyter.widget-view+json"

#: What the page shows, counted in the browser: SVG pictures drawn, widget views drawn, and
#: rich outputs shown as their text fallback instead.
LOOK = """(fallbacks) => {
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  const text = outputs.filter(e => e.dataset.mimeType === 'text/plain').map(e => e.textContent.trim());
  return {
    svg: document.querySelectorAll('.jp-RenderedSVG img').length,
    svg_drawn: Array.from(document.querySelectorAll('.jp-RenderedSVG img')).filter(i => i.naturalWidth > 0).length,
    widgets: outputs.filter(e => e.querySelector(':scope > .jupyter-widgets')).length,
    fallbacks: fallbacks.filter(words => text.some(t => t.startsWith(words))).length,
  };
}"""


def stored(path: Path) -> dict:
    """What the stored notebook holds: its SVG outputs, its widget views with saved state, their text fallbacks."""
    nb = nbformat.read(path, as_version=4)
    saved = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if "data" in o]
    svgs = [o for o in outputs if SVG in o.data]
    widgets = [o for o in outputs if WIDGET in o.data and o.data[WIDGET]["model_id"] in saved]
    fallbacks = [o.data["text/plain"].splitlines()[0][:60] for o in svgs + widgets if "text/plain" in o.data]
    return {"svg": len(svgs), "widgets": len(widgets), "fallbacks": fallbacks}


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository as a student gets it: a git clone of the committed tree."""
    target = tmp_path_factory.mktemp("fresh") / "mmu-notifier-lab"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True, timeout=120)
    return target


def look(browser, server, expected: dict) -> dict:
    """Open the notebook and wait until every stored SVG and widget output is drawn, as a figure or as text."""
    page = open_page(browser)
    rich = expected["svg"] + expected["widgets"]
    try:
        page.goto(server.url(f"lab/tree/{NOTEBOOK}?reset"))
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)
        page.wait_for_function(f"(fallbacks) => {{ const seen = ({LOOK})(fallbacks); "
                               f"return seen.svg_drawn + seen.widgets + seen.fallbacks >= {rich}; }}",
                               arg=expected["fallbacks"], timeout=120_000)
        return page.evaluate(LOOK, expected["fallbacks"])
    finally:
        page.close()


def test_a_fresh_clone_shows_chapter_00s_figures_once_make_trust_has_run(browser, clone):
    expected = stored(clone / "notebooks" / NOTEBOOK)
    assert expected["svg"] >= 1 and expected["widgets"] >= 1, expected
    server = Server("lab", {}, root=clone / "notebooks")
    try:
        untrusted = look(browser, server, expected)
        print(f"\n{NOTEBOOK} stores {expected['svg']} SVG and {expected['widgets']} widget outputs; untrusted: {untrusted}")
        assert untrusted["svg"] == 0 and untrusted["widgets"] == 0, untrusted
        assert untrusted["fallbacks"] == len(expected["fallbacks"]), untrusted     # text where figures belong

        venv = Path(BIN).parent
        subprocess.run(["make", "--no-print-directory", "-C", str(clone), "trust", f"VENV={venv}"],
                       env=server.env, check=True, timeout=120, capture_output=True)
        trusted = look(browser, server, expected)
        print(f"after make trust: {trusted}")
        assert trusted["svg"] == trusted["svg_drawn"] == expected["svg"], trusted
        assert trusted["widgets"] == expected["widgets"], trusted
        assert trusted["fallbacks"] == 0, trusted
    finally:
        server.stop()
