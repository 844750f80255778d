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
