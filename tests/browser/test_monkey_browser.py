"""A monkey in JupyterLab and in Voila: seeded random actions over every control of the lab and the comparison.

Actions are sent as fast as a quick student clicks (no waiting for the
kernel between them), so the kernel sees overlapping changes, searches
started and cancelled, the scheduler switched on mid-play.  At the end, once
Play is stopped and the page has settled: no console error, no page error,
no traceback or stderr output, no "something went wrong" message, the
timeline redrawn for the final run, and the status line equal to the one
labkit computes for the configuration the page shows.
"""
from __future__ import annotations

import random

import pytest

from .conftest import open_page, real_errors
from .lab_page import expected_status, settle
from .servers import open_and_run_all

pytestmark = pytest.mark.browser
FIGURES = 3
ACTIONS = 150          # per page: 300 in all
SEED = 20080131


def _pick(page, selector: str, rng):
    """A random enabled, visible element matching ``selector`` (None if there is none)."""
    found = page.locator(f"{selector}:not([disabled]):visible")
    count = found.count()
    return found.nth(rng.randrange(count)) if count else None


def _press(page, handle, rng) -> None:
    handle.focus()
    for _ in range(rng.randint(1, 3)):
        page.keyboard.press(rng.choice(["ArrowLeft", "ArrowRight", "ArrowRight", "Home", "End"]))


def act(page, rng) -> str:
    """One random action; a control the kernel disabled between the look and the click is let go."""
    from playwright.sync_api import TimeoutError
    try:
        return _act(page, rng)
    except TimeoutError:
        return "a control changed under the click"


def _act(page, rng) -> str:
    """One random action on a visible, enabled control; returns what it did (for the failure message)."""
    lab, compare = page.locator(".labkit-lab"), page.locator(".labkit-compare")
    choice = rng.choice(["toggle", "toggle", "select", "select", "schedule", "cursor", "worst", "scheduler",
                         "thread", "thread", "undo", "play", "speed", "compare"])
    if choice == "toggle":
        button = _pick(page, ".labkit-lab .labkit-controls .widget-toggle-button", rng)
        button.click()
        return "toggle"
    if choice == "select":
        select = _pick(page, ".labkit-lab .labkit-controls select", rng)
        index = rng.randrange(select.locator("option").count())
        select.select_option(index=index)
        return f"select option {index}"
    if choice == "schedule":
        handles = lab.locator(".labkit-schedule .noUi-handle")
        if lab.locator(".labkit-schedule[disabled], .labkit-schedule .noUi-target[disabled]").count():
            return "schedule (disabled)"
        _press(page, handles.nth(rng.randrange(2)), rng)
        return "schedule slider"
    if choice == "cursor":
        _press(page, lab.locator(".labkit-cursor .noUi-handle"), rng)
        return "cursor"
    if choice == "worst":
        button = lab.locator(".labkit-worst")
        if button.is_enabled():
            button.click()
        return f"worst: {button.inner_text()}"
    if choice == "scheduler":
        lab.get_by_role("button", name="you are the scheduler").click()
        return "scheduler toggle"
    if choice in ("thread", "undo"):
        names = ".labkit-thread-button" if choice == "thread" else ".labkit-scheduler button:not(.labkit-thread-button)"
        button = _pick(page, f".labkit-lab {names}", rng)
        if button is not None:
            button.click()
            return choice
        return f"{choice} (none enabled)"
    if choice == "play":
        buttons = lab.locator(".widget-play button")
        buttons.nth(rng.choice([0, 0, 1, 2])).click()          # play, play, pause, stop
        return "play"
    if choice == "speed":
        index = rng.randrange(4)
        lab.locator(".widget-dropdown", has_text="speed").locator("select").select_option(index=index)
        return f"speed {index}"
    if rng.random() < 0.5:
        _press(page, compare.locator(".labkit-schedule .noUi-handle").nth(rng.randrange(2)), rng)
        return "compare schedule"
    _press(page, compare.locator(".widget-hslider .noUi-handle").last, rng)
    return "compare cursor"


def stop_and_settle(page) -> dict:
    """Stop Play, leave the scheduler, move the slider (back to the slider's run), and wait for the kernel."""
    lab = page.locator(".labkit-lab")
    lab.locator(".widget-play button").nth(2).click()            # stop
    toggle = lab.get_by_role("button", name="you are the scheduler")
    if "mod-active" in (toggle.get_attribute("class") or ""):
        toggle.click()
    settle(page)
    _press(page, lab.locator(".labkit-schedule .noUi-handle").nth(1), random.Random(0))
    return settle(page)


@pytest.mark.parametrize("where", ["jupyterlab", "voila"])
def test_a_monkey_finds_no_error_and_the_page_agrees_with_the_kernel(where, browser, request):
    page = open_page(browser)
    request.module._PAGE = page
    try:
        if where == "jupyterlab":
            open_and_run_all(page, request.getfixturevalue("lab_server"), "monkey.ipynb", FIGURES)
        else:
            page.goto(request.getfixturevalue("voila_server").url("voila/render/monkey.ipynb"))
            page.wait_for_function(f"document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= {FIGURES}",
                                   timeout=60_000)
        page.set_default_timeout(2_000)        # a click on a control the kernel just disabled gives up fast
        rng = random.Random(f"{SEED}-{where}")
        done = []
        for _ in range(ACTIONS):
            done.append(act(page, rng))
            if rng.random() < 0.15:
                page.wait_for_timeout(rng.choice([50, 200, 600]))
        page.set_default_timeout(30_000)
        seen = stop_and_settle(page)
        assert real_errors(page) == [], done
        assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0, done
        body = page.inner_text("body")
        assert "Traceback" not in body and "something went wrong" not in body, done
        assert int(seen["steps"]) + 2 == seen["veil"], (seen, done)     # the timeline shows the final run
        assert seen["status"] == expected_status(seen), (seen, done)
    finally:
        page.close()
