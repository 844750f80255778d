"""Fixtures for the browser tests: one JupyterLab and one chromium per module, screenshots on failure."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .servers import CHROMIUM, ROOT, Server, launch

ARTIFACTS = ROOT / "test-artifacts"
#: Offline machines cannot fetch Voila's icon font from its CDN; that is the only console error allowed.
OFFLINE = ("net::ERR_", "Failed to load resource")


def pytest_collection_modifyitems(items):
    """Without Debian's chromium the browser tests are skipped on a developer's machine, never in CI."""
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = launch(playwright)
    yield browser
    browser.close()


def open_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(f"page error: {e}"))
    return page


def real_errors(page) -> list:
    return [text for text in page.console_errors if not any(word in text for word in OFFLINE)]


@pytest.fixture(autouse=True)
def screenshot_on_failure(request):
    yield
    report = getattr(request.node, "report_call", None)
    page = request.node.funcargs.get("page") or getattr(request.module, "_PAGE", None)
    if report is not None and report.failed and page is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
            pass


COPIES = {"lab.ipynb": ROOT / "notebooks" / "lab.ipynb"}


@pytest.fixture(scope="session")
def lab_server():
    server = Server("lab", COPIES)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def voila_server():
    server = Server("voila", COPIES)
    yield server
    server.stop()
