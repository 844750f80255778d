"""Every widget callback goes through ``guarded``: a readable message instead of a traceback."""
from __future__ import annotations

import functools
import html

import ipywidgets as widgets

from ..core.messages import LIMIT, one_line


class Messages:
    """An HTML area for errors and notes (HTML rather than Output: nothing is captured, nbval stays quiet)."""

    def __init__(self):
        self.widget = widgets.HTML("", layout=widgets.Layout(min_height="0px"))
        self.widget.add_class("labkit-message")

    def say(self, text: str, error: bool = False) -> None:
        colour = "#D55E00" if error else "inherit"
        mark = "⚠ " if error else ""
        self.widget.value = (f'<div style="color:{colour};font-weight:{"bold" if error else "normal"}">'
                             f"{mark}{html.escape(text)}</div>")

    def clear(self) -> None:
        self.widget.value = ""

    @property
    def text(self) -> str:
        import re
        return html.unescape(re.sub(r"<[^>]+>", "", self.widget.value)).strip()


def readable(exc: BaseException) -> str:
    """An exception as one line a person can read (at most a few hundred characters, whatever it quotes)."""
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        return one_line(str(exc).strip("'\""))
    return (f"something went wrong ({type(exc).__name__}: {one_line(exc, 2 * LIMIT)}); the lab is unchanged, "
            "try another setting")


def guard(messages: Messages, callback):
    """Wrap a widget callback: on any exception, show its message in ``messages`` and keep going."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a widget callback must never raise into the kernel
            messages.say(readable(exc), error=True)
            return None
    return run
