"""Exercises answered with widgets (for Voila): each card grades its answer with Problem.check, the model."""
import pytest

import labkit
from labkit import explore, simulate
from labkit.tables.exercises import FIX_SCHEMES
from labkit.widgets import worksheet

SEEDS = (2008, 7, 31)


def true_invariants(problem) -> list:
    if problem.kind == "verdict":
        return [name for name, hit in explore(problem.scenario).violated.items() if hit]
    return list(simulate(problem.scenario, problem.schedule()).violated())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_card_grades_with_problem_check(seed):
    sheet = worksheet(seed)
    assert [card.problem for card in sheet.cards] == list(sheet.problems)
    for card in sheet.cards:
        problem = card.problem
        if problem.kind in ("verdict", "story"):
            names = true_invariants(problem)
            for name, box in card.boxes.items():
                box.value = name in names
            assert card.check() == problem.check(names)
            assert "right" in card.verdict_text
            card.boxes["refcount"].value = not card.boxes["refcount"].value
            assert card.check() == problem.check(card.answer()) and "not yet" in card.verdict_text
        elif problem.kind == "fix":
            for scheme in FIX_SCHEMES:
                card.scheme.value = scheme
                assert card.check() == problem.check(scheme)
        else:
            for name in explore(problem.scenario).shortest[problem.target]:
                card.lab.scheduler.run(name)
            assert card.check() == problem.check(card.lab) == problem.check(tuple(card.lab.scheduler.names))
            assert "well done" in card.verdict_text
        assert card.verdict_text in card.verdict.value.replace("&#x27;", "'")


def test_the_break_it_lab_is_in_scheduler_mode_and_shows_no_configuration():
    card = next(card for card in worksheet(2008).cards if card.problem.kind == "break")
    assert card.lab.mode == "scheduler" and card.lab.scenario == card.problem.scenario
    assert card.lab.controls.shown == ()                    # no configuration control is built
    assert card.check().endswith("the schedule is empty; name (or click) the threads' steps in order.")


def test_checking_a_fix_without_a_scheme_asks_for_one():
    card = next(card for card in worksheet(2008).cards if card.problem.kind == "fix")
    card.button.click()                                     # through guard: a message, no traceback
    assert card.messages.text == "⚠ choose a scheme first" and card.verdict_text == ""


def test_the_text_form_is_deterministic():
    first, second = worksheet(2008), worksheet(2008)
    assert repr(first) == repr(second)
    assert repr(first).startswith("Worksheet(seed=2008, 6 problems)\n1. Predict:")
    first.cards[0].check()
    assert f"\n   {first.cards[0].verdict_text}" in repr(first)
    assert "0x" not in repr(first)


def test_a_break_it_card_sets_the_problem_s_own_goal():
    """Seed 2008's break-it problem asks for a stale entry: the scheduler's goal must say so, not use after free."""
    card = next(card for card in worksheet(2008).cards if card.problem.kind == "break")
    assert card.lab.scheduler.goal == card.problem.target
    words = labkit.core.invariants.invariant(card.problem.target).goal.split("{")[0].strip()
    assert words in card.lab.scheduler.goal_line.value


def contrast(foreground: str, background: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""
    def luminance(colour):
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_a_right_answer_is_marked_right_in_green_and_a_wrong_one_not_yet_in_vermillion():
    from labkit.widgets.palette import GREEN, VERMILLION
    card = next(card for card in worksheet(2008).cards if card.problem.kind == "verdict")
    for name, box in card.boxes.items():
        box.value = name in true_invariants(card.problem)
    card.check()
    assert card.grade.right is True
    assert "✓ right" in card.verdict.value and f"background:{GREEN}" in card.verdict.value
    card.boxes["refcount"].value = True
    card.check()
    assert card.grade.right is False
    assert "✗ not yet" in card.verdict.value and f"background:{VERMILLION}" in card.verdict.value
    assert GREEN not in card.verdict.value


def test_an_answer_that_cannot_be_graded_is_not_marked():
    card = next(card for card in worksheet(2008).cards if card.problem.kind == "break")
    card.check()                                            # an empty schedule
    assert card.grade.right is None and "✓" not in card.verdict.value and "✗" not in card.verdict.value


def test_the_marks_words_read_at_4_5_to_1_on_their_colour():
    """WCAG AA for normal text: the mark's black words on green (6.1:1) and on vermillion (5.4:1)."""
    from labkit.tables.exercises import Grade
    from labkit.widgets.palette import INK
    from labkit.widgets.worksheet import MARKS, verdict_html
    for right, (word, colour) in MARKS.items():
        assert contrast(INK, colour) >= 4.5, (word, colour, contrast(INK, colour))
        assert f"background:{colour};color:{INK}" in verdict_html(Grade(right, "1. a line"))


def test_the_instructor_copy_shows_every_answer_with_the_model_s_evidence():
    sheet = worksheet(2008, answers=True)
    for card in sheet.cards:
        solution = card.problem.solution()
        shown = [child.value for child in card.widget.children if "labkit-problem-solution" in getattr(child, "value", "")]
        assert len(shown) == 1 and solution.answer in shown[0].replace("&#x27;", "'")
        assert f"answer: {solution.answer}" in repr(card)
    assert repr(sheet).startswith("Worksheet(seed=2008, 6 problems, with answers)\n1. Predict:")


def test_the_students_copy_shows_no_answer():
    sheet = worksheet(2008)
    for card in sheet.cards:
        assert not any("labkit-problem-solution" in getattr(child, "value", "") for child in card.widget.children)
        assert "answer:" not in repr(card)
