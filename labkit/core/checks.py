"""Checking a number where it enters: a whole number in a range, or a clear one-line error.

A position on the slider, a count of vCPUs, a search budget: each comes from
a person (a cell, a widget, the command line) and each is checked where it
enters the lab, not three calls later by traitlets or by ``range``.  NumPy's
integers are whole numbers too (a loop over ``np.arange`` hands them out) and
come back as Python ints, so a value made from one hashes and prints like
one made from the other.  Booleans, floats (2.0, NaN, inf) and strings are
refused with words, and so is a number out of range, however many digits it has.
"""
from __future__ import annotations

import numbers
from typing import Optional

from .messages import shown


def whole(name: str, value, low: int, high: Optional[int] = None, unit: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number from ``low`` to ``high`` (no upper bound if None).

    Otherwise a ValueError on one line: ``name=<value> is not valid; it must
    be a whole number from low to high`` and ``unit`` (``" (the VM's steps)"``).
    """
    span = f"from {low} to {high}" if high is not None else f"of {low} or more"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={shown(value)} is not valid; it must be a whole number {span}{unit}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise ValueError(f"{name}={shown(number)} is out of range; it must be a whole number {span}{unit}")
    return number
