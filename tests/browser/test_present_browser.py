"""`make present` for a class: a page's kernel ends when the page closes, and a vanished page's kernel is culled.

Voila starts one kernel per page (about 106 MB each for lab.ipynb).  Before
present/voila.py, Voila 0.5.13 refused every page's closing beacon (403, no
``_xsrf`` cookie) and culled nothing, so a class's kernels piled up: 28 of them
held 3.1 GB after one walkthrough.  These tests run Voila with the options
`make present` passes (read from `make -n present`), open 10 pages beside one
that stays open, close them, and count the kernel processes left.  Memory is
printed (run with -s to see it), never asserted; no test asserts a duration.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import time
from dataclasses import dataclass

import psutil
import pytest

from .conftest import COPIES
from .servers import ROOT, Server

pytestmark = pytest.mark.browser
PAGES = 10
FIGURES = "document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= 3"
#: The culler, fast enough for a test: an idle kernel without a page goes after 20 s, looked for every 2 s.
#: Not much shorter: a kernel has no connection from the end of its notebook's run until its page's
#: script connects, and on a loaded machine a 6 s cull ended kernels of pages still loading.
SHORT_CULL = ("--MappingKernelManager.cull_idle_timeout=20", "--MappingKernelManager.cull_interval=2")
#: Only to stop a hang: kernels go within seconds of the beacon or of the cull interval.
PATIENCE = 300


def present_options() -> list:
    """What `make present` gives voila, less where it listens and its token (each test server picks its own)."""
    plan = subprocess.run(["make", "-n", "present", "NOTEBOOK=notebooks"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.replace("\\\n", " ")
    command = next(shlex.split(line) for line in plan.splitlines() if re.search(r"/voila notebooks\b", line))
    mine = ("--no-browser", "--Voila.ip=", "--port=", "--token")
    return [arg for arg in command[2:] if not arg.startswith(mine)]


@dataclass(frozen=True)
class Kernel:
    command: str
    rss: int


def kernels(server) -> list:
    """The server's live kernel processes: one per page it served and has not ended.

    A kernel that has exited but is not reaped yet (a zombie) holds no memory and does not count.
    """
    found = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if "ipykernel_launcher" in command:
                found.append(Kernel(command, child.memory_info().rss))
        except psutil.Error:          # gone, or a zombie, between the listing and the look
            continue
    return found


def footprint(server) -> str:
    found = kernels(server)
    resident = sum(kernel.rss for kernel in found) / 2**20
    server_rss = psutil.Process(server.process.pid).memory_info().rss / 2**20
    return f"{len(found)} kernels, {resident:.0f} MB resident in kernels, Voila itself {server_rss:.0f} MB"


def wait_for_kernels(server, at_most: int) -> list:
    deadline = time.monotonic() + PATIENCE
    while len(kernels(server)) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return kernels(server)


def open_pages(context, server, count: int) -> list:
    """``count`` pages of lab.ipynb opened at once, each waited for until its figures are drawn."""
    pages = [context.new_page() for _ in range(count)]
    for page in pages:
        page.goto(server.url("voila/render/lab.ipynb"), wait_until="commit")
    for page in pages:
        page.wait_for_function(FIGURES, timeout=PATIENCE * 1000)
    return pages


def kernel_id(page) -> str:
    return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def log(server) -> str:
    return (server.tmp / "server.log").read_text()


@pytest.fixture(scope="module")
def options():
    found = present_options()
    assert f"--Voila.config_file_paths={ROOT / 'present'}" in found, found
    return found


def serve(options, *extra):
    return Server("voila", COPIES, options=(*options, *extra))


def test_voila_ends_a_kernel_when_its_page_closes(browser, options):
    """Closing a page sends Voila's beacon; the server ends that kernel at once, long before any culling."""
    server = serve(options)
    context = browser.new_context()
    try:
        print(f"\nVoila, as make present runs it, before any page: {footprint(server)}")
        kept, = open_pages(context, server, 1)
        pages = open_pages(context, server, PAGES)
        print(f"with {PAGES + 1} pages open: {footprint(server)}")
        assert len(kernels(server)) == PAGES + 1
        for page in pages:
            page.close(run_before_unload=True)          # what closing a tab or leaving the page does
        left = wait_for_kernels(server, at_most=1)
        print(f"after closing {PAGES} of them: {footprint(server)}")
        assert len(left) == 1 and kernel_id(kept) in left[0].command
        assert log(server).count("Kernel shutdown:") == PAGES
        assert "Culling 'idle' kernel" not in log(server) and "403 POST /voila/api/shutdown" not in log(server)
    finally:
        context.close()
        server.stop()


def test_voila_culls_the_kernel_of_a_page_that_vanished_and_keeps_an_open_one(browser, options):
    """A tab that crashed or a laptop put to sleep sends no beacon: the culler ends its kernel, not an open page's."""
    server = serve(options, *SHORT_CULL)
    context = browser.new_context()
    try:
        kept, = open_pages(context, server, 1)
        pages = [page for _ in range(PAGES) for page in open_pages(context, server, 1)]   # one by one (above)
        print(f"\nVoila with a {SHORT_CULL[0].split('=')[1]} s cull, {PAGES + 1} pages open: {footprint(server)}")
        for page in pages:
            page.close(run_before_unload=False)         # no beforeunload, no beacon: the page just vanished
        left = wait_for_kernels(server, at_most=1)
        print(f"after the cull interval: {footprint(server)}")
        assert len(left) == 1 and kernel_id(kept) in left[0].command
        assert len(re.findall(r"Culling 'idle' kernel .* with 0 connections", log(server))) == PAGES
        kept.locator(".labkit-lab").get_by_role("button", name="pin", exact=True).click()
        kept.wait_for_function(
            "() => document.querySelector('.labkit-lab .labkit-verdict').innerText.includes('is safe')")
    finally:
        context.close()
        server.stop()
