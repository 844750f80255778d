"""labkit.exercises: seeded problems, graded by running the model, answers hidden by default."""
from pathlib import Path

import pytest

import labkit.tables.exercises as ex
from labkit import Scenario, explore
from labkit.search.explore import explore as run_explore


@pytest.fixture
def student():
    saved = ex.INSTRUCTOR
    ex.INSTRUCTOR = False
    yield
    ex.INSTRUCTOR = saved


def test_the_same_seed_gives_the_same_problems_and_another_seed_differs():
    first, again = ex.worksheet(2008), ex.worksheet(2008)
    assert [p.question for p in first] == [p.question for p in again]
    assert any([p.question for p in ex.worksheet(s)] != [p.question for p in first] for s in range(1, 6))


def test_a_worksheet_has_every_kind_numbered_in_order():
    sheet = ex.worksheet(7, verdicts=2)
    assert [p.kind for p in sheet] == ["verdict", "verdict", "story", "fix", "break"]
    assert [p.number for p in sheet] == [1, 2, 3, 4, 5]


def test_a_verdict_answer_is_graded_by_exploring(student):
    problem = ex.Problem(1, "verdict", Scenario(op="zap", scheme="range", refmode="off"))
    assert problem.check("use_after_free, stale") == "1. right: some schedule breaks use_after_free, stale."
    assert problem.check(["S", "U"]).startswith("1. right")
    assert problem.check("stale").startswith("1. not yet: 1 that some schedule breaks missing")
    assert "use_after_free" not in problem.check("stale")     # grading does not give the answer away


def test_nothing_is_a_valid_answer_and_a_wrong_word_is_not_graded():
    problem = ex.Problem(2, "verdict", Scenario(op="zap", scheme="range_seq", refmode="off"))
    assert problem.check("nothing") == "2. right: some schedule breaks nothing."
    assert problem.check("freed page").startswith("2. not graded: 'freed page' is not an invariant")


def test_a_story_is_graded_by_simulating_its_one_schedule():
    problem = ex.Problem(3, "story", Scenario(op="zap", scheme="range", refmode="off"), read_after=0, install_after=10)
    assert problem.check("use_after_free, stale").startswith("3. right: this run breaks")


def test_any_safe_scheme_fixes_and_an_unsafe_one_is_reported_with_its_counterexample_length():
    problem = ex.Problem(4, "fix", Scenario(op="rmap", scheme="none", refmode="off"))
    assert problem.check("page_seq").startswith("4. right: no schedule of rmap/page_seq/off/kvm")
    assert problem.check("range_seq").startswith("4. right")
    assert problem.check("page").startswith("4. still broken: rmap/page/off/kvm can break use_after_free, stale")
    assert problem.check("bogus").startswith("4. not graded")


def test_break_it_accepts_a_schedule_string_a_list_or_a_scheduler():
    problem = ex.Problem(5, "break", Scenario(op="zap", scheme="range", refmode="off"), target="use_after_free")
    winning = explore(problem.scenario).shortest["use_after_free"]
    assert problem.check(",".join(winning)).startswith("5. broken, well done: step")
    assert problem.check(list(winning)) == problem.check(",".join(winning))

    class Lab:                      # what Lab.scheduler offers: the names clicked so far
        class scheduler:
            names = list(winning)
    assert problem.check(Lab()) == problem.check(winning)
    assert problem.check("vm").startswith("5. not broken yet: 1 steps")
    assert problem.check("").startswith("5. not graded: the schedule is empty")
    assert "blocked" in problem.check("vm,vm,vm,vm,vm,fault,fault")


def test_answers_are_hidden_unless_the_instructor_switch_is_on(student):
    problem = ex.worksheet(2008)[0]
    assert "hidden" in problem.answer()
    ex.INSTRUCTOR = True
    assert "hidden" not in problem.answer()
    assert "hidden" not in problem.answer(reveal=True) and "hidden" in problem.answer(reveal=False)


def test_every_fix_problem_has_a_safe_and_an_unsafe_scheme():
    for op, refmode in ex._FIX_POOL:
        safe = [not any(run_explore(Scenario(op=op, scheme=s, refmode=refmode)).violated.values())
                for s in ex.FIX_SCHEMES]
        assert any(safe) and not all(safe), (op, refmode)


def test_every_break_it_challenge_can_be_won():
    for fields, target in ex._BREAK_POOL:
        assert run_explore(Scenario(**fields)).violated[target], (fields, target)


def test_the_instructor_sees_answers_that_the_grader_accepts(student):
    ex.INSTRUCTOR = True
    for problem in ex.worksheet(11):
        revealed = problem.answer().split(". ", 1)[1]
        if problem.kind in ("verdict", "story"):
            assert problem.check(revealed).startswith(f"{problem.number}. right"), problem
        elif problem.kind == "fix":
            assert problem.check(revealed.split(": ")[1].split(", ")[0]).startswith(f"{problem.number}. right")
        else:
            assert "well done" in problem.check(revealed.split(": ")[1])


def test_the_placeholder_answer_is_not_graded():
    problem = ex.worksheet(2008)[0]
    assert problem.check("?") == "1. not graded yet: replace ? with your answer and run the cell again."


ANSWER_KEY = Path(__file__).resolve().parent.parent / "notebooks" / "answer_key_2008.md"


def test_answer_key_matches_the_model():
    """The printed key is the model's answers for notebook 08's seed, regenerated whenever the model changes."""
    assert ANSWER_KEY.read_text() == ex.answer_key(2008), (
        "notebooks/answer_key_2008.md differs from the model's answers: run make answer-key SEED=2008")


def test_the_answer_key_gives_every_answer_and_the_grader_accepts_each():
    key = ex.answer_key(2008)
    for problem in ex.worksheet(2008):
        solution = problem.solution()
        assert f"**Answer:** {solution.answer}" in key and problem.question in key
        if problem.kind in ("verdict", "story"):
            accepted = solution.answer                                    # invariant names
        else:                                                             # "safe schemes: a, b" / "shortest: vm,..."
            accepted = solution.answer.split(": ")[1].split(", ")[0]
        assert problem.grade(accepted).right is True, problem


def test_a_grade_says_right_wrong_or_not_graded_with_check_s_line():
    problem = ex.Problem(1, "verdict", Scenario(op="zap", scheme="range", refmode="off"))
    for answer, right in (("use_after_free, stale", True), ("stale", False), ("freed page", None), ("?", None)):
        grade = problem.grade(answer)
        assert grade.right is right and grade.line == problem.check(answer), answer
    breaking = ex.Problem(6, "break", Scenario(op="zap", scheme="range", refmode="off"), target="use_after_free")
    assert breaking.grade("").right is None and breaking.grade("vm").right is False
    assert breaking.grade(explore(breaking.scenario).shortest["use_after_free"]).right is True


def test_a_solution_does_not_depend_on_the_instructor_switch(student):
    problem = ex.worksheet(2008)[0]
    assert "hidden" in problem.answer() and problem.solution().answer == "use_after_free, stale"
