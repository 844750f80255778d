"""The configuration controls, and which of them make sense for the current configuration."""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..kernel.eras import ERAS
from ..core.messages import shown as quoted
from ..kernel.fault import REFMODES
from ..kernel.operations import CALLERS, OPS, RELEASES
from ..kernel.schemes import SCHEMES, drives, scheme_named
from ..kernel.secondaries import SECONDARIES, secondary_named
from ..scenario import Scenario

OP_WORDS = {"zap": "zap (madvise, munmap, truncate)", "rmap": "rmap (reclaim)", "cow": "cow (write after fork)",
            "cow2": "cow2 (two COWs, a CPU writer)"}
REFMODE_TIPS = {
    "off": "the fault takes no page reference the spte keeps",
    "pin": "the spte keeps the reference get_user_pages took (KVM until 2009)",
    "gup_release": "get_user_pages, then put_page right after installing",
    "off_under_ptl": "no reference, but the spte is installed while the PTL is held",
}


#: The Scenario fields the controls show, in the order they are laid out.
FIELDS = ("op", "refmode", "scheme", "secondary", "era", "release", "caller")


def _row(*children):
    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap"))


def shown_fields(shown) -> tuple:
    """Check ``shown`` (None for every control, or some of ``FIELDS``) and return it in layout order."""
    if shown is None:
        return FIELDS
    if isinstance(shown, str):
        shown = (shown,)
    try:
        names = tuple(shown)
    except TypeError:
        raise TypeError(f"controls={quoted(shown)}: give a tuple of field names from {', '.join(FIELDS)}") from None
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise ValueError(f"controls={quoted(names)}: {quoted(unknown[0])} is not a control; "
                         f"choose from {', '.join(FIELDS)}")
    return tuple(name for name in FIELDS if name in names)


def fitted(values: dict, changed: str | None = None) -> dict:
    """``values`` (op, scheme, refmode, secondary, ...) made a combination the model accepts, as the controls do.

    The field just ``changed`` wins: choosing the IOMMU brings a scheme that
    drives it; choosing a scheme brings the secondary it needs (the GRU's,
    the IOMMU's) or, if the current one cannot take it, the first that can;
    a secondary that takes no page reference of its own (the IOMMU) brings
    refmode ``off``.  The rules are the Scenario's (``schemes.drives``,
    ``secondary.refmodes``); this only picks.
    """
    values = dict(values)
    scheme, secondary = scheme_named(values["scheme"]), secondary_named(values["secondary"])
    if changed == "secondary" and secondary.schemes and not drives(scheme, secondary):   # the IOMMU brings its own
        scheme = next(s for s in SCHEMES.values() if drives(s, secondary))
        values["scheme"] = scheme.name
    if not drives(scheme, secondary):
        secondary = next(s for s in SECONDARIES.values() if drives(scheme, s))
    values["secondary"] = secondary.name
    if secondary.refmodes and values["refmode"] not in secondary.refmodes:
        values["refmode"] = secondary.refmodes[0]
    return values


class Controls:
    """Widgets for op, scheme, refmode, secondary, era, release and caller; ``scenario()`` reads them.

    Every widget exists (``controls.refmode``, ...) whatever ``shown`` says;
    only the ``shown`` ones are laid out, so a chapter can show the one
    control its claim is about while the others keep the scenario's values.
    """

    def __init__(self, scenario: Scenario, shown=None):
        self.shown = shown_fields(shown)
        style = {"description_width": "initial"}
        self.op = widgets.ToggleButtons(options=[(OP_WORDS[o], o) for o in OPS], value=scenario.op,
                                        description="VM operation", style={**style, "button_width": "auto"},
                                        tooltips=[OP_WORDS[o] for o in OPS])
        self.scheme = widgets.Dropdown(options=list(SCHEMES), value=scenario.scheme, description="notifier",
                                       style=style, tooltip="which mmu_notifier callbacks the driver implements")
        self.refmode = widgets.ToggleButtons(options=list(REFMODES), value=scenario.refmode, description="refcount",
                                             style={**style, "button_width": "auto"},
                                             tooltips=[REFMODE_TIPS.get(r, r) for r in REFMODES])
        self.secondary = widgets.Dropdown(options=list(SECONDARIES), value=scenario.secondary,
                                          description="secondary MMU", style=style)
        self.era = widgets.Dropdown(options=list(ERAS), value=scenario.era, description="era", style=style,
                                    tooltip="; ".join(f"{era.name}: {era.summary}" for era in ERAS.values()))
        self.release = widgets.Dropdown(options=list(RELEASES), value=scenario.release, description="free pages",
                                        style=style)
        self.caller = widgets.Dropdown(options=list(CALLERS), value=scenario.caller, description="zap from",
                                       style=style)
        self.scheme_summary = widgets.HTML()
        self.all = tuple(getattr(self, name) for name in FIELDS)
        rows = [_row(getattr(self, name)) for name in ("op", "refmode") if name in self.shown]
        rest = [getattr(self, name) for name in FIELDS[2:] if name in self.shown]
        if rest:
            rows.append(_row(*rest))
        if "scheme" in self.shown:
            rows.append(self.scheme_summary)
        self.widget = widgets.VBox(rows)
        self.widget.add_class("labkit-controls")
        self.refresh()

    def scenario(self, base: Scenario) -> Scenario:
        """``base`` with the controls' values (raises ValueError on a combination the model refuses)."""
        return base.replace(op=self.op.value, scheme=self.scheme.value, refmode=self.refmode.value,
                            secondary=self.secondary.value, era=self.era.value, release=self.release.value,
                            caller=self.caller.value)

    def set(self, scenario: Scenario) -> None:
        for name in FIELDS:
            getattr(self, name).value = getattr(scenario, name)
        self.refresh()

    def refresh(self, changed: str | None = None) -> None:
        """Fit the controls to a combination the model accepts (``changed`` wins) and disable what does not apply."""
        zap = self.op.value == "zap"
        self.release.disabled = not zap
        self.release.tooltip = ("when zap frees the gathered pages: before or after invalidate_range_end"
                                if zap else f"only zap gathers pages to free later; {self.op.value} frees them itself")
        self.caller.disabled = not zap
        self.caller.tooltip = ("truncate holds no mmap_sem: the fault may walk the pte at any point; munmap holds "
                               "mmap_sem for writing, so a fault that takes it for reading (KVM until 2.6.27, the "
                               "GRU always) walks before or after it" if zap
                               else "only zap is reached from munmap or truncate")
        values = fitted({name: getattr(self, name).value for name in FIELDS}, changed)
        for name in ("scheme", "secondary", "refmode"):
            getattr(self, name).value = values[name]
        requires = SCHEMES[self.scheme.value].requires
        self.secondary.disabled = len(requires) == 1
        self.secondary.tooltip = (f"the {self.scheme.value} scheme drives only {' or '.join(requires)}"
                                  if requires else "which driver keeps the secondary entries")
        refmodes = SECONDARIES[self.secondary.value].refmodes
        self.refmode.disabled = len(refmodes) == 1
        self.refmode.style.button_width = "auto"
        self.refmode.tooltip = (f"the {self.secondary.value} takes no page reference of its own: refmode "
                                f"{refmodes[0]}" if len(refmodes) == 1 else "")
        summary = html.escape(SCHEMES[self.scheme.value].summary)      # a scheme of the user's says what it likes
        self.scheme_summary.value = f'<span style="font-size:12px;opacity:0.85">{summary}</span>'

    def field_of(self, widget) -> str | None:
        """Which Scenario field ``widget`` sets."""
        return next((name for name in FIELDS if getattr(self, name) is widget), None)

    def observe(self, handler) -> None:
        for widget in self.all:
            widget.observe(handler, names="value")
