"""The cost model of notebook 06 ("What it costs") as sliders.

:func:`labkit.tables.costs.report` is a pure function from assumed
:class:`~labkit.tables.costs.Costs` to a few lines of text: the notebook
prints it under the default assumptions (nbval checks that text) and
:class:`CostPanel` shows the same text, recomputed by ``observe`` whenever a
slider moves.  Every constant is an assumption in nanoseconds, not a
measurement.

Beside the sliders, two bqplot charts are redrawn in place from the same
functions: the parts of one KVM spte fill (claim C2: is the get_page visible
next to the rest?) and the total cost of the accesses on KVM and on the GRU
as the number of TLB misses varies, with the current setting marked (claim C1).
"""
from __future__ import annotations

import html
import math
from dataclasses import fields, replace

from ..tables.costs import Costs, access_cost, fill_cost, report
from . import palette
from .heatmap import swatches_html
from .shown import Shown

#: How many points the access-cost lines have across 0..accesses misses.
CURVE_POINTS = 41

#: Slider upper bounds, in ns (the GRU invalidate's bound leaves room for "a few usec").
SLIDER_MAX = {"atomic_inc": 500.0, "rmap_build": 2000.0, "software_walk": 2000.0, "hardware_walk": 500.0,
              "gru_dropin": 3000.0, "gru_tlb_invalidate": 10000.0, "kvm_zap": 2000.0}


def nice_ceiling(value: float) -> float:
    """The axis top for ``value``: the next multiple of half its power of ten (287.5 -> 300), so ticks are round."""
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value)) / 2
    return math.ceil(value / step) * step


class CostPanel(Shown):
    """One slider per :class:`Costs` field plus pages and TLB misses; the report below follows them."""

    def __init__(self, costs: Costs = Costs(), pages: int = 16, accesses: int = 1000, tlb_misses: int = 100):
        import ipywidgets as widgets

        from .guard import Messages, guard

        self.accesses = accesses
        self.messages = Messages()
        style, layout = {"description_width": "250px"}, widgets.Layout(width="560px")
        self.sliders = {f.name: widgets.FloatSlider(value=getattr(costs, f.name), min=0.0, max=SLIDER_MAX[f.name],
                                                    step=5.0, description=f"{f.name} (assumed ns)",
                                                    style=style, layout=layout, readout_format=".0f")
                        for f in fields(Costs)}
        self.pages = widgets.IntSlider(value=pages, min=1, max=16, description="pages (model run)",
                                       style=style, layout=layout)
        self.misses = widgets.IntSlider(value=tlb_misses, min=0, max=accesses, step=10,
                                        description=f"TLB misses per {accesses} accesses", style=style, layout=layout)
        self.text = widgets.HTML()
        self.fill_chart, self.fill_bars = self._fill_chart()
        self.access_chart, self.access_lines, self.now = self._access_chart()
        for widget in [*self.sliders.values(), self.pages, self.misses]:
            widget.observe(guard(self.messages, self.update), names="value")
        sliders = widgets.VBox([widgets.HTML("<b>Assumptions</b> (ns; move them: none is a measurement)"),
                                *self.sliders.values(), self.pages, self.misses])
        key = swatches_html([(palette.BLUE, "KVM: one software fill, then hardware walks"),
                             (palette.ORANGE, "GRU: a software refill per miss"),
                             (palette.NEUTRAL, "dashed: the misses slider")])
        charts = widgets.VBox([self.fill_chart, self.access_chart, widgets.HTML(key)])
        self.widget = widgets.VBox([widgets.HBox([sliders, charts], layout=widgets.Layout(flex_flow="row wrap")),
                                    self.messages.widget, self.text])
        self.widget.add_class("labkit-costpanel")
        self.update()

    # -- the charts, built once ------------------------------------------------------------

    @staticmethod
    def _figure(marks, axes, title):
        import bqplot as bq
        import ipywidgets as widgets

        return bq.Figure(marks=marks, axes=axes, title=title, animation_duration=0, padding_x=0.0, padding_y=0.0,
                         fig_margin={"top": 40, "bottom": 45, "left": 80, "right": 20},
                         layout=widgets.Layout(width="460px", height="250px"))

    def _fill_chart(self):
        import bqplot as bq

        x, self.fill_y = bq.OrdinalScale(), bq.LinearScale(min=0.0, max=1.0, allow_padding=False)
        y = self.fill_y
        bars = bq.Bars(x=["part"], y=[0.0], scales={"x": x, "y": y}, colors=[palette.SKY], padding=0.3,
                       label_display=True, label_display_format=".0f", label_font_style={"font-size": "11px"})
        axes = [bq.Axis(scale=x, grid_lines="none"),
                bq.Axis(scale=y, side="left", label="assumed ns", tick_format=".0f", num_ticks=5)]
        return self._figure([bars], axes, "one KVM spte fill (pin), by part"), bars

    def _access_chart(self):
        import bqplot as bq

        x = bq.LinearScale(min=0.0, max=float(self.accesses), allow_padding=False)
        y = self.access_y = bq.LinearScale(min=0.0, max=1.0, allow_padding=False)
        lines = bq.Lines(x=[0.0], y=[[0.0], [0.0]], scales={"x": x, "y": y}, colors=[palette.BLUE, palette.ORANGE],
                         stroke_width=3)
        now = bq.Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales={"x": x, "y": y}, colors=[palette.NEUTRAL],
                       line_style="dashed")
        axes = [bq.Axis(scale=x, label=f"TLB misses per {self.accesses} accesses", tick_format="d", num_ticks=5),
                bq.Axis(scale=y, side="left", label="total ns", tick_format="~s", num_ticks=5)]
        return self._figure([lines, now], axes, f"{self.accesses} accesses: KVM against GRU"), lines, now

    def _redraw(self, costs: Costs) -> None:
        parts = fill_cost("pin", "kvm", costs)
        with self.fill_bars.hold_sync():
            self.fill_bars.x = list(parts)
            self.fill_bars.y = list(parts.values())
            self.fill_bars.colors = [palette.VERMILLION if "atomic" in part else palette.SKY for part in parts]
        self.fill_y.max = nice_ceiling(1.1 * max(parts.values()))   # room for the label over the tallest bar
        step = max(self.accesses // (CURVE_POINTS - 1), 1)
        misses = list(range(0, self.accesses + 1, step))
        kvm = [access_cost("kvm", self.accesses, m, "pin", costs) for m in misses]
        gru = [access_cost("gru", self.accesses, m, "off", costs) for m in misses]
        with self.access_lines.hold_sync():
            self.access_lines.x = misses
            self.access_lines.y = [kvm, gru]
        top = nice_ceiling(max(kvm + gru))
        self.access_y.max = top
        with self.now.hold_sync():
            self.now.x = [float(self.misses.value)] * 2
            self.now.y = [0.0, top]

    def costs(self) -> Costs:
        return replace(Costs(), **{name: slider.value for name, slider in self.sliders.items()})

    def report(self) -> str:
        return report(self.costs(), self.pages.value, self.accesses, self.misses.value)

    def update(self, change=None) -> None:
        """Recompute the report; called by ``observe`` (through ``guard``, so nothing escapes)."""
        self.messages.clear()
        self._redraw(self.costs())
        self.text.value = f"<pre style='font-size:12px;white-space:pre-wrap'>{html.escape(self.report())}</pre>"

    def __repr__(self) -> str:
        return f"CostPanel({len(self.sliders)} assumption sliders, pages={self.pages.value}, misses={self.misses.value})"


__all__ = ["CostPanel", "SLIDER_MAX"]
