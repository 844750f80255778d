"""The clickable window map: a cell loads its placement into the Lab beside it, and the grid follows the Lab."""
import math

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from labkit import Scenario, simulate
from labkit.search.schedules import interleave, vm_length
from labkit.tables.stories import window_map
from labkit.widgets import WindowMap, windowmap
from labkit.widgets.windowmap import SEVERITY, code

C4 = Scenario(op="zap", scheme="range", refmode="off")


def browser_click(shown, read, install):
    """The message a click on a cell sends from the browser (bqplot's element_click, with the cell's datum)."""
    datum = {"rowNum": read, "columnNum": install, "row": str(read), "column": str(install), "color": 0.0}
    shown.mark._handle_custom_msgs(None, {"event": "element_click", "data": datum})


@pytest.fixture
def shown():
    return windowmap(C4, 0, 7, controls=("refmode",))


def test_a_click_on_a_cell_moves_the_lab_to_that_placement(shown):
    browser_click(shown, 3, 7)
    expected = simulate(C4, interleave(C4, 3, 7))
    assert shown.lab.trace.schedule == expected.schedule
    assert shown.lab.trace.states == expected.states
    assert shown.placement == (3, 7)
    assert shown.mark.selected.tolist() == [[3, 7]]
    assert shown.messages.text == "loaded: the fault reads the pte after VM step 3, installs after 7 (U)"


def test_a_click_where_no_placement_exists_says_why_and_changes_nothing(shown):
    before = shown.lab.trace
    browser_click(shown, 5, 2)                                  # through guard: a message, no traceback
    assert "no such placement" in shown.messages.text
    assert shown.lab.trace is before and shown.placement == (0, 7)
    assert shown.mark.selected.tolist() == [[0, 7]]


def test_the_grid_is_window_map_with_row_0_on_top(shown):
    table = window_map(C4)
    n = vm_length(C4)
    assert list(shown.rows.domain) == [str(k) for k in range(n, -1, -1)]   # first name at the bottom
    assert list(shown.columns.domain) == [str(k) for k in range(n + 1)]
    colours = shown.mark.color
    for read in range(n + 1):
        for install in range(n + 1):
            assert colours[read][install] == code(table.loc[read, install])
    written = dict(zip(zip(shown.letters.y, shown.letters.x), shown.letters.text))
    assert written[("3", "7")] == "U" and written[("0", "10")] == "US" and ("5", "2") not in written


def test_each_outcome_has_its_own_colour_at_an_exact_stop():
    assert code("") == -1 and code(".") == 0 and code("U") == code("US") == 1 and code("S") == 2
    assert code("SA") == 2 and code("A") == 3 and code("R") == 4
    shown = windowmap(C4)
    scale = shown.colour
    assert (scale.min, scale.max) == (-1, len(SEVERITY))
    assert len(scale.colors) == len(SEVERITY) + 2             # one colour per whole code: no blend
    assert all(not math.isnan(v) for row in shown.mark.color for v in row)


def test_a_configuration_change_in_the_lab_redraws_the_grid_for_it(shown):
    shown.lab.controls.refmode.value = "pin"
    assert shown.scenario == shown.lab.scenario == C4.replace(refmode="pin")
    assert shown.table.equals(window_map(C4.replace(refmode="pin")))
    assert "12 of 66 placements break something (S 12)" in repr(shown)


def test_the_text_form_is_deterministic(shown):
    assert repr(shown) == repr(windowmap(C4, 0, 7, controls=("refmode",)))
    assert repr(shown) == ("WindowMap(zap/range/off/kvm: rows read after 0–10, columns install after 0–10; "
                           "16 of 66 placements break something (U 4, US 12); selected: read after 0, install "
                           "after 7)")
    assert shown._repr_mimebundle_()["text/plain"] == repr(shown)


class MapBesideLab(RuleBasedStateMachine):
    """Clicks and control changes in any order: the grid, the selection and the Lab always agree."""

    def __init__(self):
        super().__init__()
        self.shown = WindowMap(C4, 0, 7, controls=("op", "scheme", "refmode"))

    @rule(read=st.integers(0, 13), install=st.integers(0, 13))
    def click(self, read, install):
        browser_click(self.shown, read, install)

    @rule(refmode=st.sampled_from(["off", "pin", "gup_release", "off_under_ptl"]))
    def refcount(self, refmode):
        self.shown.lab.controls.refmode.value = refmode

    @rule(op=st.sampled_from(["zap", "rmap", "cow"]))
    def operation(self, op):
        self.shown.lab.controls.op.value = op

    @rule(scheme=st.sampled_from(["page", "range", "range_block", "range_seq"]))
    def notifier(self, scheme):
        self.shown.lab.controls.scheme.value = scheme

    @invariant()
    def the_grid_belongs_to_the_labs_configuration(self):
        shown = self.shown
        assert shown.scenario == shown.lab.scenario
        assert len(shown.cells) == vm_length(shown.scenario) + 1

    @invariant()
    def the_lab_shows_the_selected_placement(self):
        shown = self.shown
        read, install = shown.placement
        assert shown.mark.selected.tolist() == [[read, install]]
        assert shown.lab.trace.schedule == interleave(shown.scenario, read, install)


TestMapBesideLab = MapBesideLab.TestCase
TestMapBesideLab.settings = settings(max_examples=12, stateful_step_count=6, deadline=None)
