"""The figure describes the controls in a real browser: worst case on zap/range/off, then the notifier range_seq.

Before the fix the old range trace stayed drawn ("✖ broken: use after free")
while the message said no schedule of range_seq breaks anything.
"""
from __future__ import annotations

import pytest

from .conftest import open_page, real_errors
from .lab_page import expected_status, scenario_of, settle
from .servers import open_and_run_all

pytestmark = pytest.mark.browser
FIGURES = 3


def message_says(page, words: str, timeout=60_000) -> None:
    page.wait_for_function("(w) => document.querySelector('.labkit-lab .labkit-message').innerText.includes(w)",
                           arg=words, timeout=timeout)


@pytest.mark.parametrize("where", ["jupyterlab", "voila"])
def test_worst_case_then_another_notifier_draws_the_new_notifier(where, browser, request):
    page = open_page(browser)
    request.module._PAGE = page
    try:
        if where == "jupyterlab":
            open_and_run_all(page, request.getfixturevalue("lab_server"), "sequence.ipynb", FIGURES)
        else:
            page.goto(request.getfixturevalue("voila_server").url("voila/render/sequence.ipynb"))
            page.wait_for_function(f"document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= {FIGURES}",
                                   timeout=60_000)
        lab = page.locator(".labkit-lab")
        lab.locator(".labkit-worst").click()
        message_says(page, "worst case: the shortest schedule that breaks use after free")
        assert "broken" in lab.locator(".labkit-verdict").inner_text()
        lab.locator(".widget-dropdown", has_text="notifier").locator("select").select_option("range_seq")
        message_says(page, "no schedule of zap/range_seq/off/kvm breaks any invariant")
        seen = settle(page)
        assert scenario_of(seen).scheme == "range_seq"
        assert "is safe" in seen["verdict"] and "use after free" not in seen["status"]
        assert seen["status"] == expected_status(seen)
        assert int(seen["steps"]) + 2 == seen["veil"]          # the figure was redrawn for that run
        assert "Traceback" not in page.inner_text("body")
        assert real_errors(page) == []
    finally:
        page.close()
