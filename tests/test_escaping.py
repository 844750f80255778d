"""Every string a user gives that reaches HTML is escaped: a scheme's summary, its steps' words, a file name.

A scheme is written in a notebook cell, so its summary, its retry check's
name and its steps' actions are whatever the cell says.  The widgets put
them into HTML (the controls' summary, the slider's words, the status line,
the events table, the scheduler's listing, the CSV link): each must arrive
as text, never as markup.  A scheme's *name* cannot carry markup at all: it
must be an identifier.
"""
import html

import ipywidgets as widgets
import pytest

from labkit import Scenario, Scheme, register_scheme
from labkit.kernel.schemes import SCHEMES
from labkit.kit import Step, spin_lock, spin_unlock, zap
from labkit.widgets import Lab
from labkit.widgets.lab import csv_link

MARKUP = '<img src=x onerror="alert(1)">'


def marked_zap(call):
    step = zap(call)
    return Step(f"{MARKUP} {step.action}", step.run, f"{MARKUP} site", kind=step.kind, may_sleep=step.may_sleep)


@pytest.fixture
def marked():
    scheme = register_scheme(Scheme(name="marked", summary=f"a driver that says {MARKUP}",
                                    invalidate_range_start=(spin_lock, marked_zap, spin_unlock),
                                    invalidate_range_end=(spin_lock, marked_zap, spin_unlock),
                                    source=MARKUP, retry_name=MARKUP), replace=True)
    yield scheme
    SCHEMES.pop("marked", None)


def html_values(widget) -> list:
    """The value of every HTML widget under ``widget``."""
    found = [widget.value] if isinstance(widget, (widgets.HTML, widgets.HTMLMath)) else []
    for child in getattr(widget, "children", ()):
        found += html_values(child)
    return found


def test_a_scheme_name_with_markup_is_refused():
    with pytest.raises(ValueError, match="give a Python identifier"):
        Scheme(name=f"range{MARKUP}", summary="")


def test_a_schemes_summary_and_step_words_reach_the_page_as_text(marked):
    lab = Lab(Scenario(op="zap", scheme="marked", refmode="off"), read_after=0, install_after=3)
    lab.details.selected_index = 0                   # the events table, the text version, the CSV link
    text = "&lt;img src=x onerror="          # the tag's opening, escaped (pandas leaves quotes as they are)
    assert html.escape(MARKUP) in lab.controls.scheme_summary.value
    assert text in lab.table.value and text in lab.text.value          # pandas' table, the [Time N] text
    lab.scheduling.value = True
    lab.scheduler.buttons["vm"].click()
    assert any(text in value for value in html_values(lab.scheduler.widget))
    values = html_values(lab.widget)
    assert values and not [value for value in values if MARKUP in value]


class Labelled:
    """A trace whose configuration's label has markup in it (no registered scheme can: names are identifiers)."""

    def __init__(self, trace, label):
        self._trace, self._label = trace, label

    def __getattr__(self, name):
        return getattr(self._trace, name)

    @property
    def scenario(self):
        label = self._label

        class Named:
            def label(self):
                return label
        return Named()


def test_the_csv_links_file_name_is_escaped_in_the_attribute_and_the_text():
    lab = Lab(Scenario(op="zap", scheme="range", refmode="off"))
    link = csv_link(Labelled(lab.trace, '"><script>alert(1)</script>'))
    assert "<script>" not in link and '"><' not in link
    assert 'download="&quot;&gt;&lt;script&gt;alert(1)&lt;-script&gt;.csv"' in link
