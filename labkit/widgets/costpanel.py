"""The cost model of notebook 06 ("What it costs") as sliders.

:func:`labkit.tables.costs.report` is a pure function from assumed
:class:`~labkit.tables.costs.Costs` to a few lines of text: the notebook
prints it under the default assumptions (nbval checks that text) and
:class:`CostPanel` shows the same text, recomputed by ``observe`` whenever a
slider moves.  Every constant is an assumption in nanoseconds, not a
measurement.
"""
from __future__ import annotations

import html
from dataclasses import fields, replace

from ..tables.costs import Costs, report

#: Slider upper bounds, in ns (the GRU invalidate's bound leaves room for "a few usec").
SLIDER_MAX = {"atomic_inc": 500.0, "rmap_build": 2000.0, "software_walk": 2000.0, "hardware_walk": 500.0,
              "gru_dropin": 3000.0, "gru_tlb_invalidate": 10000.0, "kvm_zap": 2000.0}


class CostPanel:
    """One slider per :class:`Costs` field plus pages and TLB misses; the report below follows them."""

    def __init__(self, costs: Costs = Costs(), pages: int = 16, accesses: int = 1000, tlb_misses: int = 100):
        import ipywidgets as widgets

        from .guard import Messages, guard

        self.accesses = accesses
        self.messages = Messages()
        style, layout = {"description_width": "190px"}, widgets.Layout(width="520px")
        self.sliders = {f.name: widgets.FloatSlider(value=getattr(costs, f.name), min=0.0, max=SLIDER_MAX[f.name],
                                                    step=5.0, description=f"{f.name} (assumed ns)",
                                                    style=style, layout=layout, readout_format=".0f")
                        for f in fields(Costs)}
        self.pages = widgets.IntSlider(value=pages, min=1, max=16, description="pages (model run)",
                                       style=style, layout=layout)
        self.misses = widgets.IntSlider(value=tlb_misses, min=0, max=accesses, step=10,
                                        description=f"TLB misses per {accesses} accesses", style=style, layout=layout)
        self.text = widgets.HTML()
        for widget in [*self.sliders.values(), self.pages, self.misses]:
            widget.observe(guard(self.messages, self.update), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Assumptions</b> (ns; move them: none is a measurement)"),
                                    *self.sliders.values(), self.pages, self.misses, self.messages.widget,
                                    self.text])
        self.update()

    def costs(self) -> Costs:
        return replace(Costs(), **{name: slider.value for name, slider in self.sliders.items()})

    def report(self) -> str:
        return report(self.costs(), self.pages.value, self.accesses, self.misses.value)

    def update(self, change=None) -> None:
        """Recompute the report; called by ``observe`` (through ``guard``, so nothing escapes)."""
        self.messages.clear()
        self.text.value = f"<pre style='font-size:12px;white-space:pre-wrap'>{html.escape(self.report())}</pre>"

    def __repr__(self) -> str:
        return f"CostPanel({len(self.sliders)} assumption sliders, pages={self.pages.value}, misses={self.misses.value})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


__all__ = ["CostPanel", "SLIDER_MAX"]
