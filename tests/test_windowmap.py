"""The clickable window map: a cell loads its placement into the Lab beside it, and the grid follows the Lab."""
import math

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from labkit import Scenario, simulate
from labkit.core.invariants import TABLE
from labkit.search.schedules import interleave, vm_length
from labkit.tables.stories import window_map
from labkit.widgets import CLAIMS, WindowMap, windowmap
from labkit.widgets.lanes import placement_of
from labkit.widgets.windowmap import SEVERITY, code
from labkit.widgets.worst import EXPLORE_LIMIT

C4 = Scenario(op="zap", scheme="range", refmode="off")
READ, INSTALL = CLAIMS["C4"].read_after, CLAIMS["C4"].install_after       # a use after free


def broken_cells(scenario) -> dict:
    """{letters: how many placements} for the placements of ``scenario`` that break something."""
    table = window_map(scenario)
    cells = [cell for column in table.columns for cell in table[column] if cell not in ("", ".")]
    return {letters: cells.count(letters) for letters in sorted(set(cells))}


def browser_click(shown, read, install):
    """The message a click on a cell sends from the browser (bqplot's element_click, with the cell's datum)."""
    datum = {"rowNum": read, "columnNum": install, "row": str(read), "column": str(install), "color": 0.0}
    shown.mark._handle_custom_msgs(None, {"event": "element_click", "data": datum})


@pytest.fixture
def shown():
    return windowmap(C4, 0, 7, controls=("refmode",))


def test_a_click_on_a_cell_moves_the_lab_to_that_placement(shown):
    browser_click(shown, READ, INSTALL)
    expected = simulate(C4, interleave(C4, READ, INSTALL))
    assert shown.lab.trace.schedule == expected.schedule
    assert shown.lab.trace.states == expected.states
    assert shown.placement == (READ, INSTALL)
    assert shown.mark.selected.tolist() == [[READ, INSTALL]]
    assert shown.messages.text == f"loaded: the fault reads the pte after VM step {READ}, installs after {INSTALL} (U)"


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
    assert written[(str(READ), str(INSTALL))] == "U" and written[("0", str(n))] == "US"
    assert ("5", "2") not in written


def test_each_outcome_has_its_own_colour_at_an_exact_stop():
    letters = [letter for letter, _ in SEVERITY]
    assert letters == [record.letter for record in TABLE]     # every invariant, in the table's order
    assert len({colour for _, colour in SEVERITY}) == len(SEVERITY)
    assert code("") == -1 and code(".") == 0 and code("U") == code("US") == 1
    assert code("SA") == code("S") == letters.index("S") + 1 and code("A") == letters.index("A") + 1
    shown = windowmap(C4)
    scale = shown.colour
    assert (scale.min, scale.max) == (-1, len(SEVERITY))
    assert len(scale.colors) == len(SEVERITY) + 2             # one colour per whole code: no blend
    assert all(not math.isnan(v) for row in shown.mark.color for v in row)


def test_a_configuration_change_in_the_lab_redraws_the_grid_for_it(shown):
    shown.lab.controls.refmode.value = "pin"
    assert shown.scenario == shown.lab.scenario == C4.replace(refmode="pin")
    assert shown.table.equals(window_map(C4.replace(refmode="pin")))
    counts = broken_cells(C4.replace(refmode="pin"))
    assert set(counts) == {"S"}
    assert f"placements break something (S {counts['S']})" in repr(shown)


def test_the_text_form_is_deterministic(shown):
    assert repr(shown) == repr(windowmap(C4, 0, 7, controls=("refmode",)))
    n, counts = vm_length(C4), broken_cells(C4)
    listed = ", ".join(f"{letters} {count}" for letters, count in counts.items())
    assert repr(shown) == (f"WindowMap(zap/range/off/kvm: rows read after 0–{n}, columns install after 0–{n}; "
                           f"{sum(counts.values())} of {(n + 1) * (n + 2) // 2} placements break something "
                           f"({listed}); selected: read after 0, install after 7)")
    assert shown._repr_mimebundle_()["text/plain"] == repr(shown)


class MapBesideLab(RuleBasedStateMachine):
    """Clicks, control changes, the scheduler and the worst case in any order: the grid, the selection and the
    Lab always agree, and the figure is what the Lab's mode says."""

    def __init__(self):
        super().__init__()
        self.shown = WindowMap(C4, 0, 7, controls=("op", "scheme", "refmode"), max_states=None)

    def teardown(self):
        self.shown.lab.cancel()
        self.shown.lab.wait(30)

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

    @rule(on=st.booleans())
    def toggle_the_scheduler(self, on):
        self.shown.lab.scheduling.value = on

    @precondition(lambda self: self.shown.lab.mode == "scheduler")
    @rule(pick=st.integers(0, 7))
    def click_a_thread(self, pick):
        buttons = [b for b in self.shown.lab.scheduler.buttons.values() if not b.disabled]
        if buttons:
            buttons[pick % len(buttons)].click()

    @precondition(lambda self: self.shown.lab.mode != "scheduler")
    @rule()
    def worst_case_from_python(self):
        self.shown.lab.worst_case()

    @precondition(lambda self: not self.shown.lab.worst_button.disabled)
    @rule()
    def press_worst_case(self):
        self.shown.lab.worst_button.click()

    @rule()
    def cancel(self):
        self.shown.lab.cancel()

    @rule()
    def wait_for_the_search(self):
        self.shown.lab.wait(30)

    @invariant()
    def the_grid_belongs_to_the_labs_configuration(self):
        shown = self.shown
        with shown.lab.lock:
            assert shown.scenario == shown.lab.scenario
            assert len(shown.cells) == vm_length(shown.scenario) + 1

    @invariant()
    def the_lab_shows_what_its_mode_says(self):
        shown, lab = self.shown, self.shown.lab
        with lab.lock:
            read, install = shown.placement
            assert shown.mark.selected.tolist() == [[read, install]]
            assert lab.max_states == EXPLORE_LIMIT
            assert lab.scheduling.value == (lab.mode == "scheduler")
            assert lab.worst_button.description == ("cancel search" if lab.searching else "worst case")
            slider = lab.trace.schedule == interleave(shown.scenario, *lab.when.index)
            if lab.mode == "scheduler":
                assert lab.trace.schedule == tuple(lab.scheduler.names)
            elif lab.mode == "worst":       # a worst case found, or (while searching) the run drawn before
                worst = bool(lab.trace.violated()) and lab.when.index == placement_of(lab.trace)
                assert worst or (lab.searching and slider)
            else:
                assert slider
            if lab.mode == "slider":
                assert shown.placement == lab.when.index


TestMapBesideLab = MapBesideLab.TestCase
TestMapBesideLab.settings = settings(max_examples=20, stateful_step_count=8, deadline=None)


def test_the_map_follows_its_lab_changed_from_code_and_outlines_the_slider_s_placement():
    shown = windowmap(Scenario(op="zap", scheme="range", refmode="off"), 4, 8, controls=("caller", "era"))
    shown.lab.set(caller="munmap")
    assert shown.scenario == shown.lab.scenario and shown.scenario.caller == "munmap"
    shown.lab.move(2, 9)
    assert shown.placement == (2, 9)
