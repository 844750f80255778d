"""A claim preset and the clickable window map in JupyterLab, in chromium: asked, answered, clicked, no errors."""
from __future__ import annotations

import nbformat
import pytest

from labkit import Scenario
from labkit.search.schedules import vm_length
from labkit.tables.stories import window_map
from labkit.widgets import Lab, claim

from .conftest import open_page, real_errors
from .servers import Server, open_and_run_all

pytestmark = pytest.mark.browser

C4 = Scenario(op="zap", scheme="range", refmode="off")
CELLS = [
    "from labkit import Scenario\nfrom labkit.widgets import claim, windowmap",
    'claim("C4")',
    'windowmap(Scenario(op="zap", scheme="range", refmode="off"), 3, 7, controls=("refmode",))',
]


@pytest.fixture(scope="module")
def pieces_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("pieces") / "pieces.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    server = Server("lab", {"pieces.ipynb": path})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(browser, pieces_server, request):
    page = open_page(browser)
    request.module._PAGE = page
    open_and_run_all(page, pieces_server, "pieces.ipynb", figures=1)      # the window map's Lab
    page.wait_for_selector(".labkit-windowmap rect.heatmapcell", state="attached")
    yield page
    page.close()


def test_the_claim_asks_before_it_shows_a_timeline(page):
    preset = page.locator(".labkit-claim")
    assert preset.count() == 1
    assert "Predict: " + claim("C4").claim.question in preset.inner_text()
    assert preset.locator(".labkit-timeline").count() == 0


def test_an_answer_reveals_the_timeline_and_the_models_verdict(page):
    preset = page.locator(".labkit-claim")
    preset.get_by_role("button", name="yes", exact=True).click()
    verdict = preset.locator(".labkit-claim-verdict")
    verdict.wait_for()
    assert verdict.inner_text() == claim("C4").answer("yes")        # the kernel's own grading, same words
    preset.locator(".labkit-timeline svg.svg-figure").wait_for(state="attached")
    page.wait_for_function("() => document.querySelector('.labkit-claim .labkit-status-line') && "
                           "document.querySelector('.labkit-claim .labkit-status-line').innerText"
                           ".includes('use after free')")


def test_a_click_on_a_window_map_cell_loads_that_placement(page):
    read, install = 0, 9
    n = vm_length(C4)
    cells = page.locator(".labkit-windowmap rect.heatmapcell")
    assert cells.count() == (n + 1) ** 2
    cells.nth(read * (n + 1) + install).click()                     # row by row, row 0 (read after 0) first
    expected = Lab(C4, read_after=read, install_after=install).status_text
    page.wait_for_function("(text) => { const s = document.querySelector('.labkit-windowmap-lab "
                           ".labkit-status-line'); return s && s.innerText === text; }", arg=expected)
    message = page.locator(".labkit-windowmap-lab .labkit-message").first.inner_text()
    assert f"after VM step {read}, installs after {install} ({window_map(C4).loc[read, install]})" in message


def test_no_console_errors(page):
    assert real_errors(page) == []
