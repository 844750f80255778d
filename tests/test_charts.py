"""Notebook 05's heat map and notebook 06's cost panel: discrete colours, rows as printed, charts redrawn in place."""
import numpy as np
import pytest

from labkit.tables import matrix
from labkit.tables.costs import Costs, access_cost, fill_cost, report
from labkit.widgets import CostPanel, heatmap
from labkit.widgets.heatmap import COUNT_COLOURS, EMPTY


@pytest.fixture(scope="module")
def table():
    return matrix.matrix(schemes=("page", "range", "range_seq", "gru"))


@pytest.fixture(scope="module")
def heat(table):
    return heatmap(table)


def test_rows_run_top_to_bottom_in_the_printed_grids_order(heat, table):
    printed = [f"{op}/{scheme}" for op, scheme in matrix.grid(table).index]
    assert heat.rows == printed
    assert list(heat.mark.scales["row"].domain) == printed[::-1]    # an ordinal axis starts at the bottom


def test_each_whole_count_has_its_own_colour_and_missing_cells_are_grey(heat):
    scale = heat.mark.scales["color"]
    assert (scale.min, scale.max) == (-1, len(COUNT_COLOURS) - 1)
    assert list(scale.colors) == [EMPTY, *COUNT_COLOURS]      # one colour per code, at an exact stop
    codes = np.asarray(heat.mark.color)
    assert set(np.unique(codes)) <= {-1.0, 0.0, 1.0, 2.0, 3.0}
    assert ((codes == -1) == np.isnan(heat.counts)).all()      # "no such configuration", not black NaN
    assert np.isnan(heat.counts).any()


def test_cells_carry_the_grids_letters_and_the_figure_a_title_and_legend(heat, table):
    grid = matrix.grid(table)
    written = dict(zip(zip(heat.letters.y, heat.letters.x), heat.letters.text))
    assert written[("zap/range", "kvm/off")] == grid.loc[("zap", "range"), ("kvm", "off")] == "US"
    assert ("zap/gru", "kvm/off") not in written
    assert heat.figure.title and heat.figure.fig_margin["top"] >= 40
    assert "no such configuration" in heat.legend.value and "3 or more invariants" in heat.legend.value
    assert repr(heat).startswith("HeatMap(12 rows op/scheme x 12 columns secondary/refmode;")


def test_the_cost_charts_follow_the_sliders_in_place():
    panel = CostPanel()
    bars, lines, now = panel.fill_bars, panel.access_lines, panel.now
    panel.sliders["atomic_inc"].value = 300.0
    panel.misses.value = 400
    costs = Costs(atomic_inc=300.0)
    assert panel.fill_bars is bars and panel.access_lines is lines and panel.now is now
    parts = fill_cost("pin", "kvm", costs)
    assert list(bars.x) == list(parts) and list(bars.y) == list(parts.values())
    assert "#D55E00" in list(bars.colors)                    # the reference's part stands out
    misses = list(lines.x)
    assert misses[0] == 0 and misses[-1] == 1000
    assert list(lines.y[0]) == [access_cost("kvm", 1000, m, "pin", costs) for m in misses]
    assert list(lines.y[1]) == [access_cost("gru", 1000, m, "off", costs) for m in misses]
    assert list(now.x) == [400.0, 400.0]
    assert panel.report() == report(costs, 16, 1000, 400)
    assert repr(panel) == "CostPanel(7 assumption sliders, pages=16, misses=400)"


def test_all_zero_costs_draw_without_a_message():
    panel = CostPanel()
    for slider in panel.sliders.values():
        slider.value = 0.0
    assert panel.messages.text == "" and panel.fill_y.max > 0


def test_chart_axes_end_on_round_numbers_above_the_data():
    from labkit.widgets.costpanel import nice_ceiling
    assert [nice_ceiling(v) for v in (287.5, 55000, 4380, 1000, 0)] == [300, 55000, 4500, 1000, 1]
    panel = CostPanel()
    assert panel.fill_y.max >= max(panel.fill_bars.y) and panel.access_y.max >= max(panel.access_lines.y[1])
