"""A Lab that shows only the controls one argument is about (a claim's refcount toggle, say).

A chapter's preset must not hand a student seven controls when the claim
turns on one.  ``Lab`` will take ``controls=(...)`` itself; until then this
hides the other controls' widgets, and it is the one place to simplify when
it does.  Hidden controls keep their values: the Lab's scenario is unchanged.
"""
from __future__ import annotations

from ..scenario import Scenario
from .lab import Lab

#: The Lab's configuration controls, in the order its panel shows them (``lab.controls.<name>``).
CONTROLS = ("op", "scheme", "refmode", "secondary", "era", "release", "caller")


def check_controls(controls) -> tuple:
    """``controls`` as a tuple of known control names; a clear error otherwise."""
    if isinstance(controls, str):
        controls = (controls,)
    controls = tuple(controls)
    unknown = [name for name in controls if name not in CONTROLS]
    if unknown:
        raise ValueError(f"unknown control(s) {', '.join(map(repr, unknown))}; choose from {', '.join(CONTROLS)}")
    return controls


def focused_lab(scenario: Scenario, read_after: int, install_after: int, controls=()) -> Lab:
    """A Lab on ``scenario`` at this slider placement with only ``controls`` visible."""
    controls = check_controls(controls)
    lab = Lab(scenario, read_after=read_after, install_after=install_after)
    for name in CONTROLS:
        if name not in controls:
            getattr(lab.controls, name).layout.display = "none"
    if "scheme" not in controls:       # the scheme's one-line summary belongs to the scheme control
        lab.controls.scheme_summary.layout.display = "none"
    return lab


__all__ = ["CONTROLS", "check_controls", "focused_lab"]
