"""The cost model of notebook 06 ("What it costs") as text and as sliders.

:func:`report` is a pure function from assumed :class:`~labkit.costs.Costs`
to a few lines of text: the notebook prints it under the default assumptions
(nbval checks that text) and :class:`CostPanel` shows the same text, recomputed
by ``observe`` whenever a slider moves.  Every constant is an assumption in
nanoseconds, not a measurement; the call, flush and retry counts come from the
model (:func:`labkit.costs.notifier_work`, :func:`labkit.costs.retry_rate`).
"""
from __future__ import annotations

import html
from dataclasses import asdict, fields, replace
from functools import lru_cache

from .costs import Costs, access_cost, fill_cost, notifier_work, refcount_share, retry_rate
from .scenario import Scenario

#: Slider upper bounds, in ns (the GRU invalidate's bound leaves room for "a few usec").
SLIDER_MAX = {"atomic_inc": 500.0, "rmap_build": 2000.0, "software_walk": 2000.0, "hardware_walk": 500.0,
              "gru_dropin": 3000.0, "gru_tlb_invalidate": 10000.0, "kvm_zap": 2000.0}


@lru_cache(maxsize=None)
def retries(op: str) -> dict:
    """retry_rate of ``op`` under range_seq with pin (KVM 2.6.27); costs do not change it, so it is cached."""
    return retry_rate(Scenario(op=op, scheme="range_seq", refmode="pin"))


def report(costs: Costs = Costs(), pages: int = 16, accesses: int = 1000, tlb_misses: int = 100) -> str:
    """The four cost questions of the notebook, answered under ``costs`` (all ns are assumed)."""
    lines = ["assumed ns (not measurements): " + ", ".join(f"{k}={v:g}" for k, v in asdict(costs).items())]
    fill = fill_cost("pin", "kvm", costs)
    share = refcount_share("pin", "kvm", costs) if sum(fill.values()) else 0.0  # all-zero sliders: no share
    lines.append("C2  one KVM spte fill (pin): " + " + ".join(f"{k} {v:g}" for k, v in fill.items())
                 + f" = {sum(fill.values()):g} ns; the reference is {share:.1%} of it")
    kvm = access_cost("kvm", accesses, tlb_misses, "pin", costs)
    gru = access_cost("gru", accesses, tlb_misses, "off", costs)
    ratio = f"GRU/KVM = {gru / kvm:.1f}x" if kvm else "KVM costs 0 under these assumptions"
    lines.append(f"C1  {accesses} accesses, {tlb_misses} TLB misses: KVM {kvm:,.0f} ns (one software fill, "
                 f"then hardware walks), GRU {gru:,.0f} ns (software refill per miss); {ratio}")
    per_page = notifier_work("rmap", "gru", pages, "gru", costs)
    ranged = notifier_work("zap", "gru", pages, "gru", costs)
    lines.append(f"    {pages} pages on the GRU: one page at a time {per_page['callbacks']} callbacks, "
                 f"{per_page['flushes']} flushes = {per_page['flush ns']:,.0f} ns; as one range "
                 f"{ranged['callbacks']} callbacks, {ranged['flushes']} flush = {ranged['flush ns']:,.0f} ns")
    wasted = sum(v for k, v in fill.items() if k != "install") + costs.atomic_inc  # walk, get_page, put_page
    for op in ("zap", "rmap", "cow"):
        rate = retries(op)
        lines.append(f"    range_seq {op}: the fault retried in {rate['retried']} of {rate['positions']} slider "
                     f"schedules; each retry throws away {wasted:g} ns (walk, get_page, put_page)")
    return "\n".join(lines)


class CostPanel:
    """One slider per :class:`Costs` field plus pages and TLB misses; the report below follows them."""

    def __init__(self, costs: Costs = Costs(), pages: int = 16, accesses: int = 1000, tlb_misses: int = 100):
        import ipywidgets as widgets

        from .widgets.guard import Messages, guard

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


__all__ = ["report", "retries", "CostPanel", "SLIDER_MAX"]
