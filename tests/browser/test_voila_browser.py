"""The lab served by Voila (code hidden, widgets live), one page shared by the tests of this module, in order.

Every value of every control: no console error, and the figure's words
never overlap or stick out.  Each change of the secondary MMU or of the gru
scheme used to log 6-14 errors like ``<g> attribute transform … NaN``: marks
kept naming lanes the new y scale no longer had.  "GRU TLB entry[0]" was
clipped to "RU TLB entry[0]" and "STALE ENTRY" was cut at the right edge.
"""
from __future__ import annotations

import pytest

from .actions import check_after_monkey, monkey, worst_case_then_range_seq
from .conftest import open_page, real_errors
from .figure import TEXTS, clipped, overlaps
from .lab_page import expected_status, settle

pytestmark = pytest.mark.browser
FIGURES = 3          # the lab, and the two sides of the comparison
ACTIONS = 150


@pytest.fixture(scope="module")
def page(browser, voila_server, request):
    page = open_page(browser)
    request.module._PAGE = page
    page.goto(voila_server.url("voila/render/lab.ipynb"))
    page.wait_for_function(f"document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= {FIGURES}",
                           timeout=60_000)
    yield page
    page.close()


def test_voila_serves_the_lab(page):
    seen = settle(page)
    assert "use after free" in seen["status"] and seen["status"] == expected_status(seen)
    page.locator(".labkit-lab").get_by_role("button", name="pin", exact=True).click()
    page.wait_for_function("() => document.querySelector('.labkit-lab .labkit-verdict').innerText.includes('is safe')")
    seen = settle(page)                      # the status line is a separate widget, a separate message
    assert "use after free" not in seen["status"] and seen["status"] == expected_status(seen)
    page.locator(".labkit-lab").get_by_role("button", name="off", exact=True).click()
    assert "Traceback" not in page.inner_text("body")
    assert real_errors(page) == []


def test_worst_case_then_another_notifier_draws_the_new_notifier(page):
    worst_case_then_range_seq(page)
    page.locator(".labkit-lab").get_by_label("notifier", exact=True).select_option("range")


def test_every_value_of_every_control_draws_cleanly(page):
    lab = page.locator(".labkit-lab")
    tried = []
    for group in ("VM operation", "refcount"):
        buttons = lab.locator(".widget-toggle-buttons", has_text=group).locator("button")
        for i in range(buttons.count()):
            buttons.nth(i).click()
            tried.append(check(page, f"{group}: {buttons.nth(i).inner_text()}"))
        buttons.first.click()
    for label in ("notifier", "secondary MMU", "era", "free pages", "zap from"):
        select = lab.get_by_label(label, exact=True)
        for option in select.locator("option").all_inner_texts():
            if select.is_enabled():
                select.select_option(label=option)
                tried.append(check(page, f"{label}: {option}"))
        if select.is_enabled():
            select.select_option(index=0)
    assert len(tried) >= 20
    seen = settle(page)
    assert seen["status"] == expected_status(seen)
    assert real_errors(page) == []


def check(page, what: str) -> str:
    """Wait until the page has caught up with the change, then look at every figure's words."""
    settle(page, quiet_ms=300)
    for figure in page.evaluate(TEXTS):
        assert overlaps(figure) == [], what
        assert clipped(figure) == [], what
    assert real_errors(page) == [], what
    return what


def test_a_monkey_finds_no_error_and_the_page_agrees_with_the_kernel(page):
    check_after_monkey(page, monkey(page, ACTIONS, "voila"))
