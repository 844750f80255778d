"""Numbers are checked where they enter the lab, and None means the default budget wherever a budget is taken.

A position on the slider, a cursor step, a count of pages, a search budget:
each comes from a person and each is refused at the door with one line naming
the range, or accepted as a plain ``int`` (NumPy's integers are whole numbers
too).  Nothing is clamped without a word, and nothing reaches traitlets'
own errors.
"""
import math

import numpy as np
import pytest

from labkit import Scenario, interleave, verdicts, vm_length
from labkit.search.explore import DEFAULT_MAX_STATES
from labkit.widgets import Compare, Lab, windowmap
from labkit.widgets.worst import EXPLORE_LIMIT, search

S = Scenario(op="zap", scheme="range", refmode="off")
BAD_POSITIONS = [-1, math.nan, math.inf, 10 ** 400, "x", 2.0, True, None]


def one_line(error) -> str:
    text = str(error.value)
    assert "\n" not in text and len(text) < 300, text
    return text


@pytest.mark.parametrize("value", BAD_POSITIONS[:-1])
@pytest.mark.parametrize("make", [
    lambda **kw: Lab(S, **kw),
    lambda **kw: Compare(S, S.replace(refmode="pin"), **kw),
    lambda **kw: windowmap(S, **kw),
], ids=["Lab", "Compare", "windowmap"])
@pytest.mark.parametrize("handle", ["read_after", "install_after"])
def test_a_bad_position_is_refused_at_the_door_with_one_line(make, handle, value):
    with pytest.raises(ValueError) as error:
        make(**{handle: value})
    text = one_line(error)
    assert text.startswith(f"{handle}=") and f"whole number from 0 to {vm_length(S)}" in text


def test_a_read_after_the_install_is_refused_not_swapped():
    with pytest.raises(ValueError) as error:
        Lab(S, read_after=5, install_after=2)
    assert one_line(error) == "install_after=2 is before read_after=5; the fault installs what it read"


def test_numpy_integers_are_whole_numbers_everywhere():
    scenario = Scenario(op="zap", scheme="range", refmode="off", pages=np.int64(2), vcpus=np.int32(1))
    plain = Scenario(op="zap", scheme="range", refmode="off", pages=2)
    assert type(scenario.pages) is int and type(scenario.vcpus) is int
    assert scenario == plain and hash(scenario) == hash(plain) and repr(scenario) == repr(plain)
    assert interleave(S, np.int64(2), np.int64(5)) == interleave(S, 2, 5)
    lab = Lab(S, read_after=np.int64(1), install_after=np.int16(7), max_states=np.int64(1000))
    assert lab.when.index == (1, 7) and lab.max_states == 1000 and type(lab.max_states) is int


def test_move_with_numpy_integers_moves_the_figure_too():
    lab = Lab(S, read_after=0, install_after=8)
    lab.move(np.int64(2), 3)
    assert lab.when.index == (2, 3)
    assert lab.trace.schedule == interleave(S, 2, 3)
    assert lab.messages.text == ""


@pytest.mark.parametrize("value", BAD_POSITIONS[:-1])
def test_move_and_step_to_refuse_what_is_not_a_position(value):
    lab = Lab(S, read_after=0, install_after=8)
    before = (lab.when.index, lab.trace, lab.cursor.value)
    with pytest.raises(ValueError) as error:
        lab.move(value, 3)
    assert one_line(error).startswith("read_after=")
    with pytest.raises(ValueError) as error:
        lab.step_to(value)
    assert one_line(error).startswith("step=")
    assert (lab.when.index, lab.trace, lab.cursor.value) == before


def test_a_cursor_step_past_the_run_is_refused():
    lab = Lab(S, read_after=0, install_after=8)
    with pytest.raises(ValueError, match=r"step=999 is out of range; it must be a whole number from 0 to"):
        lab.step_to(999)
    lab.step_to(np.int64(3))
    assert lab.cursor.value == 3


def test_a_huge_count_is_out_of_range_not_a_long_error():
    with pytest.raises(ValueError) as error:
        Scenario(op="zap", scheme="range", refmode="off", pages=10 ** 5000)
    assert one_line(error) == ("pages=<a whole number of about 5,001 digits> is out of range; it must be a whole "
                               "number from 1 to 16")


# -- None means the default budget ------------------------------------------------------------

def test_a_lab_with_max_states_none_searches_with_the_labs_default_and_says_unknown_in_words():
    lab = Lab(op="zap", scheme="range_seq", refmode="off", vcpus=3, pages=2, accesses=2, max_states=None)
    assert lab.max_states == EXPLORE_LIMIT
    lab._progressed(1234)
    assert f"1,234 states (budget {EXPLORE_LIMIT:,})" in lab.progress.value


def test_worst_case_with_max_states_none_in_a_script_finishes_and_leaves_no_cancel_button():
    lab = Lab(op="zap", scheme="range", refmode="off", max_states=None)
    lab.worst_case()
    assert lab.mode == "worst" and lab.worst_button.description == "worst case"
    assert lab.messages.text.startswith("worst case: the shortest schedule")
    assert search(S, None).budget == EXPLORE_LIMIT


def test_a_search_cut_short_by_a_small_budget_still_says_unknown():
    lab = Lab(op="zap", scheme="range_seq", refmode="off", max_states=np.int64(50))
    lab.worst_case()
    assert lab.messages.text.startswith("unknown:") and "budget of 50 states" in lab.messages.text


def test_a_worst_case_that_fails_leaves_the_lab_on_the_sliders_run(monkeypatch):
    import labkit.widgets.lab as lab_module

    def broken(*args, **kwargs):
        raise MemoryError()

    lab = Lab(S)
    monkeypatch.setattr(lab_module, "search", broken)
    with pytest.raises(MemoryError):
        lab.worst_case()
    assert lab.mode == "slider" and lab.worst_button.description == "worst case"
    assert lab.trace.schedule == interleave(S, *lab.when.index)


def test_a_window_maps_lab_takes_a_budget_and_none_is_the_default():
    assert windowmap(S, max_states=None).lab.max_states == EXPLORE_LIMIT
    assert windowmap(S, max_states=77).lab.max_states == 77


def test_verdicts_with_max_states_none_search_with_the_explorers_default():
    table = verdicts(ops="zap", schemes="range", refmodes="off", secondaries="kvm", max_states=None)
    assert table["complete"].tolist() == [True]
    assert DEFAULT_MAX_STATES > table["states"].max()


@pytest.mark.parametrize("value", [0, -1, 2.5, "many", True])
def test_a_bad_budget_is_refused_at_the_door(value):
    with pytest.raises(ValueError) as error:
        Lab(S, max_states=value)
    assert one_line(error).startswith("max_states=") and "None: the lab's default" in str(error.value)


# -- a window-map click in any mode ------------------------------------------------------------

def test_a_window_map_click_in_scheduler_mode_leaves_it_and_draws_the_cell():
    shown = windowmap(S, 0, 7)
    shown.lab.scheduling.value = True
    shown.lab.scheduler.buttons["vm"].click()
    shown.click(3, 8)
    lab = shown.lab
    assert lab.mode == "slider" and not lab.scheduling.value
    assert lab.trace.schedule == interleave(S, 3, 8) and lab.when.index == (3, 8)
    assert shown.placement == (3, 8) and shown.mark.selected.tolist() == [[3, 8]]
    assert shown.messages.text.startswith("loaded: the fault reads the pte after VM step 3, installs after 8")


def test_a_window_map_click_on_the_sliders_own_cell_replaces_a_worst_case():
    shown = windowmap(S, 0, 7)
    shown.lab.worst_case()
    assert shown.lab.mode == "worst"
    read, install = shown.lab.when.index
    shown.click(read, install)
    assert shown.lab.mode == "slider" and shown.lab.trace.schedule == interleave(S, read, install)
