"""Quoting what the user gave in an error message: a short prefix, on one line.

Every message that repeats a value the user typed or passed goes through
:func:`shown`, so a 1 MB thread name, a list of a million items or an int too
long to print comes back as a line a person can read, not as the value
itself.
"""
from __future__ import annotations

import reprlib

#: The most characters of a value a message quotes.
LIMIT = 60

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = LIMIT - 10
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdict = 4
_REPR.maxlevel = 2


def one_line(text: str, limit: int = 4 * LIMIT) -> str:
    """A message on one line and at most ``limit`` characters (a message may quote what it was given)."""
    text = " ".join(str(text).splitlines())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def shown(value) -> str:
    """``repr(value)`` cut to at most :data:`LIMIT` characters, on one line."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - an int past Python's digit limit, a __repr__ that fails
        text = f"<{type(value).__name__}>"
        if isinstance(value, int):        # too long to print: say how long
            text = f"<a whole number of about {int(abs(value).bit_length() * 0.30103) + 1:,} digits>"
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= LIMIT else text[:LIMIT - 3] + "..."
