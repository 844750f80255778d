"""The instructor's worksheet in Voila, where no code can be edited: every answer shown, verdicts marked in words.

notebooks/instructor.ipynb is notebook 08's worksheet with ``answers=True``.
The instructor ticks a student's answer and presses check: a right answer is
marked "✓ right" on green, a wrong one "✗ not yet" on vermillion, and the
mark's words read at 4.5:1 or better on their colour, as the browser draws them.
"""
from __future__ import annotations

import re

import pytest

from labkit.tables.exercises import worksheet as problems_for

from .conftest import open_page, real_errors
from .servers import ROOT, Server

pytestmark = pytest.mark.browser
SEED = 2008


@pytest.fixture(scope="module")
def page(browser, request):
    server = Server("voila", {"instructor.ipynb": ROOT / "notebooks" / "instructor.ipynb"})
    page = open_page(browser)
    request.module._PAGE = page
    page.goto(server.url("voila/render/instructor.ipynb"))
    page.wait_for_function("document.querySelectorAll('.labkit-problem').length >= 6", timeout=120_000)
    yield page
    page.close()
    server.stop()


def rgb(css: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


def contrast(one: tuple, other: tuple) -> float:
    def luminance(colour):
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check(card, expected: str) -> dict:
    """Press the card's check button, wait for the ``expected`` mark and read it as the browser draws it."""
    card.get_by_role("button", name="check").click()
    mark = card.locator(".labkit-verdict-mark", has_text=expected)
    mark.wait_for(timeout=60_000)
    style = mark.evaluate("m => { const s = getComputedStyle(m); return [s.color, s.backgroundColor]; }")
    return {"word": mark.inner_text(), "ink": rgb(style[0]), "colour": rgb(style[1])}


def test_voila_shows_every_answer_of_the_worksheet(page):
    cards = page.locator(".labkit-problem")
    assert cards.count() == len(problems_for(SEED))
    for card, problem in zip(cards.all(), problems_for(SEED)):
        shown = card.locator(".labkit-problem-solution").inner_text()
        assert problem.solution().answer in shown, problem
    assert "Traceback" not in page.inner_text("body") and real_errors(page) == []


def test_a_right_answer_is_marked_right_and_a_wrong_one_not_yet_in_words_that_read(page):
    problems = problems_for(SEED)
    number = next(p.number for p in problems if p.kind == "verdict" and p.solution().answer == "nothing")
    card = page.locator(".labkit-problem").nth(number - 1)
    right = check(card, "✓ right")      # no box ticked: "nothing", the model's answer
    assert right["word"] == "✓ right" and right["colour"] == (0x00, 0x9E, 0x73)
    card.locator("label", has_text="stale (").first.click()
    wrong = check(card, "✗ not yet")
    assert wrong["word"] == "✗ not yet" and wrong["colour"] == (0xD5, 0x5E, 0x00)
    for mark in (right, wrong):
        assert contrast(mark["ink"], mark["colour"]) >= 4.5, mark
    assert real_errors(page) == []
