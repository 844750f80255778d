"""What the browser tests do to a lab: the issue's sequence, and a monkey's random actions.

``worst_case_then_range_seq`` is the sequence that once left the old range
trace drawn while the message spoke of range_seq.  ``monkey`` sends seeded
random actions over every control of the lab and the comparison as fast as
a quick student clicks (no waiting for the kernel between them), so the
kernel sees overlapping changes, searches started and cancelled, the
scheduler switched on mid-play.  ``check_after_monkey`` then asserts, once
Play is stopped and the page has settled: no console error, no page error,
no traceback or stderr output, no "something went wrong" message, the
timeline redrawn for the final run, and the status line equal to the one
labkit computes for the configuration the page shows.
"""
from __future__ import annotations

import random

from .conftest import real_errors
from .lab_page import expected_status, scenario_of, settle

SEED = 20080131


def message_says(page, words: str, timeout=60_000) -> None:
    page.wait_for_function("(w) => document.querySelector('.labkit-lab .labkit-message').innerText.includes(w)",
                           arg=words, timeout=timeout)


def start_from_zap_range_off(page) -> None:
    """The notebook's configuration, whatever an earlier test left: zap, range, off, kvm."""
    lab = page.locator(".labkit-lab")
    lab.get_by_label("secondary MMU", exact=True).select_option("kvm")
    lab.get_by_label("notifier", exact=True).select_option("range")
    lab.locator(".widget-toggle-buttons", has_text="VM operation").locator("button").first.click()
    lab.get_by_role("button", name="off", exact=True).click()
    seen = settle(page)
    assert scenario_of(seen).label() == "zap/range/off/kvm", seen


def worst_case_then_range_seq(page) -> None:
    """Worst case on zap/range/off, then the notifier range_seq: the page must show range_seq's run."""
    start_from_zap_range_off(page)
    lab = page.locator(".labkit-lab")
    lab.locator(".labkit-worst").click()
    message_says(page, "worst case: the shortest schedule that breaks use_after_free")
    assert "broken" in lab.locator(".labkit-verdict").inner_text()
    lab.get_by_label("notifier", exact=True).select_option("range_seq")
    message_says(page, "no schedule of zap/range_seq/off/kvm breaks any invariant")
    seen = settle(page)
    assert scenario_of(seen).scheme == "range_seq"
    assert "is safe" in seen["verdict"] and "use after free" not in seen["status"]
    assert seen["status"] == expected_status(seen)
    assert int(seen["steps"]) + 2 == seen["veil"]          # the figure was redrawn for that run
    assert "Traceback" not in page.inner_text("body")
    assert real_errors(page) == []


def monkey(page, actions: int, seed) -> list:
    """``actions`` seeded random actions; returns what was done (for failure messages)."""
    page.set_default_timeout(2_000)        # a click on a control the kernel just disabled gives up fast
    rng = random.Random(f"{SEED}-{seed}")
    done = []
    try:
        for _ in range(actions):
            done.append(act(page, rng))
            if rng.random() < 0.15:
                page.wait_for_timeout(rng.choice([50, 200, 600]))
    finally:
        page.set_default_timeout(30_000)
    return done


def check_after_monkey(page, done: list) -> None:
    seen = stop_and_settle(page)
    assert real_errors(page) == [], done
    assert page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0, done
    body = page.inner_text("body")
    assert "Traceback" not in body and "something went wrong" not in body, done
    assert int(seen["steps"]) + 2 == seen["veil"], (seen, done)     # the timeline shows the final run
    assert seen["status"] == expected_status(seen), (seen, done)


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
        if button is not None:
            button.click()
        return "toggle"
    if choice == "select":
        select = _pick(page, ".labkit-lab .labkit-controls select", rng)
        options = select.locator("option").count() if select is not None else 0
        if options:                  # a select the kernel is replacing has none for a moment
            select.select_option(index=rng.randrange(options))
        return "select"
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


