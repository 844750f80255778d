"""Claim presets: the question first, then the Lab on the prose's schedule, graded by the model itself."""
import dataclasses

import pytest

from labkit import Scenario, after, explore, simulate
from labkit.core.kinds import RELEASE
from labkit.search.schedules import interleave
from labkit.widgets import CLAIMS, Claim, claim
from labkit.widgets import claims as claims_module
from labkit.widgets.claims import NOT_SURE, REBUILT, broken
from labkit.widgets.controls import FIELDS as CONTROLS

PRESETS = list(CLAIMS)


def truth(preset: Claim, **changes) -> bool:
    """The outcome, computed here from simulate/explore directly (not through Claim.finding)."""
    scenario = preset.scenario.replace(**{k: v for k, v in changes.items() if k not in ("read_after",
                                                                                          "install_after")})
    if preset.scope == "any":
        return bool(explore(scenario).violated[preset.outcome.invariant])
    read = changes.get("read_after", preset.read_after)
    install = changes.get("install_after", preset.install_after)
    return preset.outcome.find(simulate(scenario, interleave(scenario, read, install))) is not None


def test_the_presets_are_the_claims_the_chapters_argue():
    assert set(PRESETS) == {"C3", "C4", "C5", "C6", "gup_release", "COW"}
    for preset in CLAIMS.values():
        assert preset.chapter in ("02", "03", "04", "07")
        assert preset.question.endswith("?")


@pytest.mark.parametrize("key", [key for key in PRESETS if CLAIMS[key].scope == "run"])
def test_the_revealed_lab_shows_simulate_of_the_prose_schedule(key):
    shown = claim(key)
    preset = shown.claim
    assert shown.stage.children == ()                       # nothing of the answer before the prediction
    shown.answer(NOT_SURE)
    assert shown.stage.children == (shown.lab.widget,)
    expected = simulate(preset.scenario, interleave(preset.scenario, preset.read_after, preset.install_after))
    assert shown.lab.scenario == preset.scenario
    assert shown.lab.trace.schedule == expected.schedule
    assert shown.lab.trace.states == expected.states


@pytest.mark.parametrize("key", [key for key in PRESETS if CLAIMS[key].scope == "any"])
def test_a_claim_about_any_schedule_reveals_the_counterexample_when_there_is_one(key):
    shown = claim(key)
    preset = shown.claim
    shown.answer(NOT_SURE)
    found = explore(preset.scenario)
    if found.violated[preset.outcome.invariant]:
        assert preset.outcome.invariant in shown.lab.trace.violated()
        assert len(shown.lab.trace.moves) == len(found.shortest[preset.outcome.invariant])
    else:
        expected = interleave(preset.scenario, preset.read_after, preset.install_after)
        assert shown.lab.trace.schedule == expected and not shown.lab.trace.violated()
    assert preset.evidence_trace().states == (simulate(preset.scenario, found.shortest[preset.outcome.invariant])
                                              if found.violated[preset.outcome.invariant] else preset.trace()).states


def test_presets_place_the_fault_by_what_has_happened():
    zap = CLAIMS["C4"].scenario
    steps = __import__("labkit").build(zap).programs[0].steps
    started = after(zap, hook="invalidate_range_start")
    assert steps[started - 1].hook == "invalidate_range_start" and steps[started].hook != "invalidate_range_start"
    assert steps[after(zap, kind=RELEASE) - 1].kind == RELEASE
    assert (CLAIMS["C4"].read_after, CLAIMS["C4"].install_after) == (started, after(zap, kind=RELEASE))
    with pytest.raises(ValueError, match="no invalidate_page step"):
        after(zap, hook="invalidate_page")


@pytest.mark.parametrize("key", PRESETS)
def test_the_verdict_agrees_with_the_model(key):
    preset = CLAIMS[key]
    happens = truth(preset)
    assert preset.finding().happens == happens
    right = next(words for words, predicts in preset.answers if predicts == happens)
    wrong = next(words for words, predicts in preset.answers if predicts != happens)
    assert claim(key).answer(right).startswith(f"Right. The model says {'yes' if happens else 'no'}:")
    assert claim(key).answer(wrong).startswith("Not this time.")
    assert claim(key).answer(NOT_SURE).startswith("No prediction.")


@pytest.mark.parametrize("key", PRESETS)
def test_the_change_each_preset_suggests_flips_the_outcome(key):
    """The claim holds in the model: the one control it is about decides the outcome."""
    preset = CLAIMS[key]
    assert preset.contrast
    assert truth(preset) != truth(preset, **dict(preset.contrast))
    for field, _ in preset.contrast:
        assert field in preset.controls or field in ("read_after", "install_after"), field


@pytest.mark.parametrize("key", PRESETS)
def test_only_the_claims_controls_are_shown(key):
    shown = claim(key)
    panel = set(descendants(shown.lab.controls.widget))
    for name in CONTROLS:
        visible = getattr(shown.lab.controls, name) in panel
        assert visible == (name in shown.claim.controls), name


def descendants(widget):
    """Every widget inside ``widget``'s boxes, itself included."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def test_the_suggestion_names_the_control_as_the_lab_labels_it():
    shown = claim("C4")
    assert shown.answer("yes").endswith("Now try: set refcount to pin.")
    started = CLAIMS["C3"].read_after
    assert claim("C3").answer("no, range_start stopped it").endswith(
        f"Now try: move the schedule slider to read after {started + 1}, install after {started + 1}.")


def test_a_click_on_an_answer_button_reveals_and_grades():
    shown = claim("C4")
    shown.buttons[0].click()
    assert shown.choice == "yes" and shown.verdict_text.startswith("Right.")
    assert all(button.disabled for button in shown.buttons)
    assert shown.buttons[0].button_style == "info"
    assert "Right." in shown.verdict.value and shown.messages.text == ""


def test_moving_the_revealed_lab_does_not_change_the_graded_verdict():
    shown = claim("C4")
    verdict = shown.answer("yes")
    shown.lab.set(refmode="pin")
    assert "is safe" in shown.lab.verdict.value
    assert shown.verdict_text == verdict


def test_the_text_form_is_deterministic_and_says_what_is_hidden():
    first, second = claim("C5"), claim("C5")
    assert repr(first) == repr(second)
    assert "(no prediction yet: the timeline appears once you answer)" in repr(first)
    assert "controls shown: scheme" in repr(first)
    first.answer("yes")
    assert "you answered: yes. Right." in repr(first)
    assert "0x" not in repr(first)
    assert claim("C3")._repr_mimebundle_()["text/plain"] == repr(claim("C3"))


def test_bad_input_names_the_valid_choices():
    with pytest.raises(ValueError, match="the presets are C3, C4"):
        claim("C9")
    with pytest.raises(ValueError, match="choose from op, refmode, scheme"):
        dataclasses.replace(CLAIMS["C4"], controls=("refcount",))
    with pytest.raises(ValueError, match="choose from 'yes', 'no'"):
        claim("C4").answer("maybe")
    with pytest.raises(ValueError, match="explore"):
        dataclasses.replace(CLAIMS["C3"], scope="any")
    with pytest.raises(ValueError, match="read_after"):
        dataclasses.replace(CLAIMS["C4"], read_after=99)


def test_a_search_cut_short_proves_nothing(monkeypatch):
    """The view never lies: an exploration that hit its bound says the model cannot tell."""
    monkeypatch.setattr(claims_module, "EXPLORE_LIMIT", 5)
    found = CLAIMS["gup_release"].finding()
    assert found.happens is None and "nothing is proven" in found.evidence
    assert claim("gup_release").answer("no").startswith("The model cannot tell:")


def test_a_claim_of_your_own():
    mine = Claim("mine", "03", "A fault that reads before the clear can rebuild an spte.", "a test",
                 Scenario(op="zap", scheme="range", refmode="pin"), 0, 0, ("refmode",),
                 "Will the fault install an spte after range_start?", (("yes", True), ("no", False)), REBUILT)
    assert mine.finding().happens is False                  # it installed before range_start began
    assert mine.finding(read_after=3, install_after=3).happens is True
    assert claim(mine).answer("no").startswith("Right.")


def test_rebuilt_means_the_old_page_mapped_again_after_range_start():
    """A fault that finds the pte cleared and maps a new zeroed page (MADV_DONTNEED) rebuilds nothing old."""
    zap = CLAIMS["C3"].scenario
    started = CLAIMS["C3"].read_after
    rebuilt = simulate(zap, interleave(zap, started, started))
    assert REBUILT.find(rebuilt) is not None
    later = simulate(zap, interleave(zap, started + 1, started + 1))
    assert any(s.sptes[0] is not None for s in later.states)          # it maps a page, but not P
    assert REBUILT.find(later) is None
    with pytest.raises(ValueError):
        broken("use_afterfree", "typo")
