"""The configuration controls, and which of them make sense for the current configuration."""
from __future__ import annotations

import ipywidgets as widgets

from ..kernel.eras import ERAS
from ..kernel.fault import REFMODES
from ..kernel.operations import CALLERS, OPS, RELEASES
from ..kernel.schemes import SCHEMES
from ..kernel.secondaries import SECONDARIES
from ..scenario import Scenario

OP_WORDS = {"zap": "zap (madvise, munmap, truncate)", "rmap": "rmap (reclaim)", "cow": "cow (write after fork)",
            "cow2": "cow2 (two COWs, a CPU writer)"}
REFMODE_TIPS = {
    "off": "the fault takes no page reference the spte keeps",
    "pin": "the spte keeps the reference get_user_pages took (KVM until 2009)",
    "gup_release": "get_user_pages, then put_page right after installing",
    "off_under_ptl": "no reference, but the spte is installed while the PTL is held",
}


def _row(*children):
    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap"))


class Controls:
    """Widgets for op, scheme, refmode, secondary, era, release and caller; ``scenario()`` reads them."""

    def __init__(self, scenario: Scenario):
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
        self.all = (self.op, self.scheme, self.refmode, self.secondary, self.era, self.release, self.caller)
        self.widget = widgets.VBox([_row(self.op), _row(self.refmode),
                                    _row(self.scheme, self.secondary, self.era, self.release, self.caller),
                                    self.scheme_summary])
        self.refresh()

    def scenario(self, base: Scenario) -> Scenario:
        """``base`` with the controls' values (raises ValueError on a combination the model refuses)."""
        return base.replace(op=self.op.value, scheme=self.scheme.value, refmode=self.refmode.value,
                            secondary=self.secondary.value, era=self.era.value, release=self.release.value,
                            caller=self.caller.value)

    def set(self, scenario: Scenario) -> None:
        for name in ("op", "scheme", "refmode", "secondary", "era", "release", "caller"):
            getattr(self, name).value = getattr(scenario, name)
        self.refresh()

    def refresh(self) -> None:
        """Disable what does not apply, with a tooltip that says why."""
        zap = self.op.value == "zap"
        self.release.disabled = not zap
        self.release.tooltip = ("when zap frees the gathered pages: before or after invalidate_range_end"
                                if zap else f"only zap gathers pages to free later; {self.op.value} frees them itself")
        self.caller.disabled = not zap
        self.caller.tooltip = ("truncate holds no mmap_sem: the fault may walk the pte at any point; munmap holds "
                               "mmap_sem for writing, so the fault's walk (under mmap_sem for reading) comes before "
                               "or after it" if zap else "only zap is reached from munmap or truncate")
        requires = SCHEMES[self.scheme.value].requires
        if requires and self.secondary.value not in requires:
            self.secondary.value = requires[0]
        self.secondary.disabled = len(requires) == 1
        self.secondary.tooltip = (f"the {self.scheme.value} scheme drives only {' or '.join(requires)}"
                                  if requires else "which driver keeps the secondary entries")
        summary = getattr(SCHEMES[self.scheme.value], "summary", "")
        self.scheme_summary.value = f'<span style="font-size:12px;opacity:0.85">{summary}</span>'

    def observe(self, handler) -> None:
        for widget in self.all:
            widget.observe(handler, names="value")
