"""The JupyterLite site in a real browser: no server but a static one on 127.0.0.1, the kernel in the tab.

The offline build (Pyodide's core from the pyodide npm package) is served by
a plain static file server.  Every request that would leave 127.0.0.1 is
recorded and refused (Playwright's router sees the page's and the kernel
worker's requests; a dead proxy stops anything it might miss), and the test
fails if there was one.  The server's log of what it sent is the
first-load download size, written to test-artifacts/lite-network.json.

numpy and pandas for Pyodide exist only in Pyodide's own distribution, on its
CDN, so the bqplot timeline and the pandas tables are exercised only by
``test_full_lab_runs_in_lite_with_pyodides_cdn``, which runs where that CDN is
reachable (LABKIT_LITE_CDN=1) and is skipped, with that reason, elsewhere.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import threading
import time

import pytest

import labkit

from .conftest import ARTIFACTS, real_errors

pytestmark = [pytest.mark.browser, pytest.mark.lite]

NOTEBOOK = "00_start_here.ipynb"
#: Typed into a new cell under the install cell: the model, the explorer and a widget.  The
#: schedule: the fault reads the pte before the VM operation starts and installs after it ends.
MODEL_CELL = """\
import ipywidgets as widgets
import labkit
scenario = labkit.Scenario(op="zap", scheme="range", refmode="off")
trace = labkit.simulate(scenario, labkit.interleave(scenario, 0, labkit.vm_length(scenario)))
print("simulate:", ", ".join(trace.violated()))
for refmode in ("off", "pin"):
    print("explore:", labkit.explore(labkit.Scenario(op="zap", scheme="range", refmode=refmode)).summary())
step = widgets.IntSlider(value=0, min=0, max=len(trace.moves), description="step")
status = widgets.Label(labkit.narrate.status(trace, 0))
step.observe(lambda change: setattr(status, "value", labkit.narrate.status(trace, change.new)), "value")
widgets.VBox([step, status], _dom_classes=["lite-smoke"])
"""
KERNEL_READY = 180_000        # ms: Pyodide's start on a 2-core machine, cold


def native_trace():
    """MODEL_CELL's trace, computed here by CPython."""
    scenario = labkit.Scenario(op="zap", scheme="range", refmode="off")
    return labkit.simulate(scenario, labkit.interleave(scenario, 0, labkit.vm_length(scenario)))


class StaticSite:
    """A static file server for one folder on 127.0.0.1, logging what it sends."""

    def __init__(self, folder):
        self.sent = []                                  # {"path", "status", "bytes"}, in order
        sent = self.sent

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):    # called by send_response, before the headers
                self.entry = {"path": self.path, "status": int(code), "bytes": 0}
                sent.append(self.entry)

            def send_header(self, keyword, value):
                if keyword.lower() == "content-length" and self.command == "GET":
                    self.entry["bytes"] = int(value)
                super().send_header(keyword, value)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def total(self) -> dict:
        return {"requests": len(self.sent), "megabytes": round(sum(e["bytes"] for e in self.sent) / 1e6, 2)}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def offline_context(browser, origin: str, outside: list):
    """A browser context that can reach ``origin`` only; what else is asked for goes into ``outside``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100},
                                  proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"})

    def route(request_route):
        url = request_route.request.url
        if url.startswith(origin + "/") or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    context.route("**/*", route)
    context.on("requestfailed", lambda r: None if r.url.startswith(origin) else outside.append(r.url))
    return context


@contextlib.contextmanager
def served_offline(browser, folder):
    """``folder`` on a StaticSite and an offline_context for it: (server, context, outside), closed after."""
    server = StaticSite(folder)
    outside = []
    context = offline_context(browser, server.origin, outside)
    try:
        yield server, context, outside
    finally:
        context.close()
        server.stop()


def open_page(context):
    """A page of ``context`` that collects console errors, as conftest.open_page does for a browser's pages."""
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(f"page error: {e}"))
    return page


def cell(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Cell").nth(index)


def wait_for_output(page, index: int, text: str, timeout: float, times: int = 1) -> str:
    """Cell ``index``'s output once it holds ``text`` ``times`` times (outputs arrive in pieces)."""
    page.wait_for_function(
        "([i, text, times]) => { const c = document.querySelectorAll('.jp-NotebookPanel .jp-Cell')[i];"
        " const out = c && c.querySelector('.jp-OutputArea');"
        " return out && out.innerText.split(text).length > times; }",
        arg=[index, text, times], timeout=timeout)
    return cell(page, index).locator(".jp-OutputArea").inner_text()


@pytest.fixture(scope="module")
def lite(browser, offline_lite_site, request):
    """The offline site open on NOTEBOOK; its first cell run, then a cell of model code typed and run."""
    with served_offline(browser, offline_lite_site.path) as (server, context, outside):
        milestones = {}
        page = open_page(context)
        request.module._PAGE = page
        started = time.monotonic()
        try:
            page.goto(f"{server.origin}/lab/index.html?path={NOTEBOOK}")
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=KERNEL_READY)
            milestones["notebook shown"] = {**server.total(), "seconds": round(time.monotonic() - started, 1)}
            dialogs = page.locator(".jp-Dialog").all_inner_texts()     # a "Select Kernel" dialog would be here
            # A notebook naming another kernel is switched to Pyodide's and so opens already modified.
            modified = page.locator(".lm-TabBar-tab.jp-mod-dirty").count()

            cell(page, 0).locator(".jp-InputPrompt").click()
            page.keyboard.press("Shift+Enter")
            install_output = wait_for_output(page, 0, "is installed", KERNEL_READY)
            milestones["labkit installed"] = {**server.total(), "seconds": round(time.monotonic() - started, 1)}

            page.keyboard.press("Escape")
            page.keyboard.press("a")                     # a new code cell above the notebook's first own cell
            page.keyboard.press("Enter")
            page.keyboard.insert_text(MODEL_CELL)
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector(".lite-smoke .widget-slider", timeout=120_000)     # the cell's last output
            model_output = wait_for_output(page, 1, "explore:", 30_000, times=2)       # and both explorations
            milestones["model and widget"] = {**server.total(), "seconds": round(time.monotonic() - started, 1)}
            yield {"page": page, "outside": outside, "dialogs": dialogs, "modified": modified, "install": install_output, "model": model_output}
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "lite-smoke.png"), full_page=True)
            (ARTIFACTS / "lite-network.json").write_text(json.dumps(
                {"site": str(offline_lite_site.path), "milestones": milestones, "outside": outside,
                 "sent": server.sent}, indent=1))
            page.close()


def test_notebook_opens_on_the_pyodide_kernel_without_a_kernel_dialog(lite):
    page = lite["page"]
    assert lite["dialogs"] == []
    assert lite["modified"] == 0, "the notebook was changed on opening: its kernelspec is not Pyodide's"
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()
    assert "Python (Pyodide)" in page.locator(".jp-NotebookPanel-toolbar").inner_text()


def test_first_cell_installs_labkit_from_the_site(lite):
    assert f"labkit {labkit_version()} is installed" in lite["install"]
    # The offline site has no numpy or pandas for Pyodide: the cell says so and goes on.
    assert "Tables and figures are unavailable: numpy and pandas could not be loaded" in lite["install"]
    assert "Traceback" not in lite["install"]


def test_model_runs_in_pyodide_and_agrees_with_cpython(lite):
    output = lite["model"]
    trace = native_trace()
    assert f"simulate: {', '.join(trace.violated())}" in output
    off = labkit.explore(labkit.Scenario(op="zap", scheme="range", refmode="off"))
    pin = labkit.explore(labkit.Scenario(op="zap", scheme="range", refmode="pin"))
    assert off.can_violate("use_after_free") and not pin.can_violate("use_after_free")
    # The same verdicts, and the same state counts, from Python 3.14 in the browser.
    assert f"explore: {off.summary()}" in output
    assert f"explore: {pin.summary()}" in output
    assert "Traceback" not in output


def test_widget_slider_renders_and_its_kernel_callback_runs(lite):
    page = lite["page"]
    trace = native_trace()
    label_reads = "(t) => { const l = document.querySelector('.lite-smoke div.widget-label'); return l && l.innerText === t; }"
    page.wait_for_function(label_reads, arg=labkit.narrate.status(trace, 0), timeout=30_000)
    page.locator(".lite-smoke .noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")          # the slider moves in the browser; the kernel's observer sets the label
    page.wait_for_function(label_reads, arg=labkit.narrate.status(trace, 1), timeout=30_000)


def test_no_console_errors(lite):
    assert real_errors(lite["page"]) == []


def test_no_request_left_127_0_0_1(lite):
    assert lite["outside"] == []


def test_a_request_that_would_leave_is_caught(browser, offline_lite_site):
    """The guard the tests above rely on: a fetch to another host is recorded and refused."""
    with served_offline(browser, offline_lite_site.path) as (server, context, outside):
        page = context.new_page()
        page.goto(f"{server.origin}/jupyter-lite.json")
        result = page.evaluate("() => fetch('https://example.org/x.js').then(() => 'fetched', () => 'refused')")
        assert result == "refused"
        assert "https://example.org/x.js" in outside


def test_default_site_asks_only_pyodides_cdn(browser, lite_site):
    """The published build, offline: its only requests elsewhere are for Pyodide, at the URL the site names."""
    settings = json.loads((lite_site.path / "jupyter-lite.json").read_text())["jupyter-config-data"][
        "litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    with served_offline(browser, lite_site.path) as (server, context, outside):
        page = context.new_page()
        page.goto(f"{server.origin}/lab/index.html?path={NOTEBOOK}")
        deadline = time.monotonic() + KERNEL_READY / 1000
        while settings["pyodideUrl"] not in outside and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert settings["pyodideUrl"] in outside, "the kernel never asked for Pyodide"
        assert all(url == settings["pyodideUrl"] for url in outside), outside


def labkit_version() -> str:
    from importlib.metadata import version
    return version("labkit")


@pytest.mark.pyodide_cdn
@pytest.mark.skipif(not os.environ.get("LABKIT_LITE_CDN"),
                    reason="needs Pyodide's CDN, the only source of numpy and pandas for Pyodide, which this "
                           "machine cannot reach; set LABKIT_LITE_CDN=1 where it can")
def test_full_lab_runs_in_lite_with_pyodides_cdn(browser, lite_site, request):
    """The default (published) build: lab.ipynb's bqplot timelines, then 00's pandas tables, from the CDN."""
    pyodide_url = json.loads((lite_site.path / "jupyter-lite.json").read_text())["jupyter-config-data"][
        "litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]["pyodideUrl"]
    cdn = pyodide_url.rsplit("/", 1)[0] + "/"
    server = StaticSite(lite_site.path)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    elsewhere = []
    context.on("request", lambda r: None if r.url.startswith((server.origin, cdn, "data:", "blob:"))
               else elsewhere.append(r.url))
    page = open_page(context)
    request.module._PAGE = page
    try:
        for notebook, ready in (("lab.ipynb", "document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= 3"),
                                (NOTEBOOK, "document.querySelectorAll('.jp-OutputArea table.dataframe').length >= 1")):
            page.goto(f"{server.origin}/lab/index.html?path={notebook}")
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=KERNEL_READY)
            page.click('.lm-MenuBar-itemLabel:text-is("Run")')
            page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
            page.wait_for_function(ready, timeout=KERNEL_READY)
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=KERNEL_READY)
            assert "Traceback" not in page.locator(".jp-Notebook").inner_text(), notebook
            assert "Tables and figures are unavailable" not in page.locator(".jp-Notebook").inner_text()
        assert elsewhere == [], "requests to neither the site nor Pyodide's CDN"
    finally:
        page.close()
        context.close()
        server.stop()
