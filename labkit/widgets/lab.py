"""The lab: controls, the timeline, the cursor, the status line and the tables, wired together.

All the model work goes through ``simulate``, ``interleave`` and ``explore``;
this module only decides which schedule to show and keeps the widgets in step.
"""
from __future__ import annotations

import base64
import html

import ipywidgets as widgets

from ..core.invariants import INVARIANTS, invariant
from ..scenario import Scenario
from ..search.explore import explore
from ..search.schedules import interleave, vm_length
from ..search.trace import simulate
from ..tables.export import time_table, trace_csv
from ..tables.narrate import events, status
from . import palette
from .controls import Controls
from .guard import Messages, guard
from .scheduler import Scheduler
from .timeline import Timeline

EXPLORE_LIMIT = 300_000
SPEEDS = [("1 step/s", 1000), ("2 steps/s", 500), ("5 steps/s", 200), ("10 steps/s", 100)]


def verdict_html(trace) -> str:
    """One line for the whole run: which invariants broke and where, or that it was safe."""
    broken = trace.violated()
    n = len(trace.moves)
    if broken:
        words = ", ".join(f"{invariant(v).words} at step {trace.first_violation(v)}" for v in broken)
        return (f'<div class="labkit-verdict labkit-broken" style="border-left:6px solid {palette.VIOLATION};'
                f'padding:2px 8px;font-weight:bold">✖ This run ({n} steps) is broken: {html.escape(words)}</div>')
    ended = "" if trace.finished else " so far (not every thread has finished)"
    return (f'<div class="labkit-verdict labkit-safe" style="border-left:6px solid {palette.GREEN};'
            f'padding:2px 8px">✔ This run ({n} steps) is safe{ended}: no invariant broken</div>')


def status_html(trace, step: int) -> str:
    text = html.escape(status(trace, step))
    if step and trace.violations[step - 1]:
        return (f'<div class="labkit-status labkit-broken" style="background:{palette.VIOLATION};color:#fff;'
                f'padding:3px 8px;border-radius:3px;font-weight:bold">{text}</div>')
    return f'<div class="labkit-status" style="padding:3px 8px;border:1px solid {palette.NEUTRAL};border-radius:3px">{text}</div>'


def csv_link(trace) -> str:
    data = base64.b64encode(trace_csv(trace).encode()).decode()
    name = trace.scenario.label().replace("/", "-") + ".csv"
    return f'<a download="{name}" href="data:text/csv;base64,{data}">download this trace as CSV ({name})</a>'


class Lab:
    """The interactive timeline for one configuration.  Display it, or call ``show()``.

    ``read_after``/``install_after`` place the secondary fault among the VM
    operation's steps (see ``labkit.schedules.interleave``); the default, 0
    and 8, makes zap/range install its spte inside the range window, after the
    pte was cleared: a use after free without a page reference, safe with one.
    """

    def __init__(self, scenario: Scenario | None = None, read_after: int = 0, install_after: int | None = 8,
                 **fields):
        scenario = scenario or Scenario(**{"op": "zap", "scheme": "range", "refmode": "off", **fields})
        self.scenario, self.mode, self.trace, self._quiet = scenario, "slider", None, False
        self.messages = Messages()
        self.timeline = Timeline()
        self.controls = Controls(scenario)
        n = vm_length(scenario)
        install_after = n if install_after is None else min(install_after, n)
        read_after = min(read_after, install_after)
        self.when = widgets.IntRangeSlider(
            min=0, max=n, value=(read_after, install_after), description="fault reads | installs after VM step",
            style={"description_width": "initial"}, layout=widgets.Layout(width="520px"), continuous_update=True,
            tooltip="left: how many VM steps run before the secondary fault reads the pte; "
                    "right: before it installs its entry")
        self.worst_button = widgets.Button(description="worst case", icon="bolt",
                                           tooltip="load the shortest schedule that breaks an invariant here")
        self.scheduling = widgets.ToggleButton(description="you are the scheduler", icon="hand-pointer-o",
                                               layout=widgets.Layout(width="auto"),
                                               tooltip="run the threads yourself, one atomic step per click")
        self.scheduler = Scheduler(self._scheduled, self._guard)
        self.scheduler.widget.layout.display = "none"
        self.cursor = widgets.IntSlider(min=0, max=1, value=0, description="step", continuous_update=True,
                                        layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(min=0, max=1, value=0, interval=100, step=1, description="play",
                                 tooltip="step the cursor through the run")
        self.speed = widgets.Dropdown(options=SPEEDS, value=100, description="speed",
                                      layout=widgets.Layout(width="180px"))
        self.links = [widgets.link((self.play, "value"), (self.cursor, "value")),
                      widgets.link((self.speed, "value"), (self.play, "interval"))]
        self.links += self.timeline.follow(self.cursor)
        self.verdict, self.status = widgets.HTML(), widgets.HTML()
        self.status.add_class("labkit-status-line")
        self.legend = widgets.HTML(palette.legend_html())
        self.table, self.text, self.csv = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.details = widgets.Accordion([self.table, widgets.VBox([self.csv, self.text])],
                                         titles=("events table", "text version ([Time N] table) and CSV"))
        self.widget = widgets.VBox([
            self.timeline.style, self.controls.widget,
            widgets.HBox([self.when, self.worst_button, self.scheduling],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.scheduler.widget, self.verdict, self.timeline.figure,
            widgets.HBox([self.play, self.cursor, self.speed], layout=widgets.Layout(align_items="center")),
            self.status, self.legend, self.messages.widget, self.details])
        self.widget.add_class("labkit-lab")

        self.controls.observe(self._guard(self._configured))
        self.when.observe(self._guard(self._moved), names="value")
        self.worst_button.on_click(self._guard(lambda _: self.worst_case()))
        self.scheduling.observe(self._guard(self._toggle_scheduler), names="value")
        self.cursor.observe(self._guard(self._cursor_moved), names="value")
        self._refresh_controls()
        self._reload()

    # -- errors ---------------------------------------------------------------

    def _guard(self, callback):
        return guard(self.messages, callback)

    # -- what the user does ----------------------------------------------------

    def set(self, **changes) -> None:
        """Change the configuration as if the controls were used (``lab.set(refmode="pin")``)."""
        scenario = self.scenario.replace(**changes)
        self._quiet = True
        try:
            self.controls.set(scenario)
        finally:
            self._quiet = False
        self._configured()

    def move(self, read_after: int, install_after: int) -> None:
        """Set the schedule slider."""
        self.when.value = (read_after, install_after)

    def step_to(self, step: int) -> None:
        self.cursor.value = step

    def worst_case(self) -> None:
        """Load the explorer's shortest schedule breaking the first invariant this configuration can break."""
        found = explore(self.scenario, max_states=EXPLORE_LIMIT)
        for name in INVARIANTS:     # the worst case shows the first, in the table's order
            if found.violated.get(name):
                self.mode = "worst"
                self.scheduling.value = False
                self._load(simulate(self.scenario, found.shortest[name]))
                self.messages.say(f"worst case: the shortest schedule that breaks {name} "
                                  f"({len(found.shortest[name])} steps, out of {found.states} reachable states)")
                return
        self.messages.say(f"no schedule of {self.scenario.label()} breaks any invariant "
                          f"({found.states} states explored" + ("" if found.complete else ", search cut short") + ")")

    # -- callbacks -------------------------------------------------------------

    def _configured(self, change=None) -> None:
        if self._quiet:
            return
        self.controls.refresh()
        self.scenario = self.controls.scenario(self.scenario)
        self.messages.clear()
        n = vm_length(self.scenario)
        if self.when.max != n:
            self._quiet = True
            try:
                low, high = self.when.value
                self.when.max = n
                self.when.value = (min(low, n), min(high, n))
            finally:
                self._quiet = False
        if self.mode == "scheduler":
            self.scheduler.start(self.scenario)
            self.messages.say("the configuration changed: the schedule starts again from step 0")
        if self.mode == "worst":
            self.worst_case()
        else:
            self._reload()

    def _moved(self, change=None) -> None:
        if self._quiet:
            return
        if self.mode == "worst":
            self.mode = "slider"
            self.messages.clear()
        if self.mode == "slider":
            self._reload()

    def _toggle_scheduler(self, change) -> None:
        on = change["new"]
        self.mode = "scheduler" if on else "slider"
        self.scheduler.widget.layout.display = None if on else "none"
        self._refresh_controls()
        if on:
            self.scheduler.start(self.scenario)
        self._reload()

    def _scheduled(self, names) -> None:
        self._load(simulate(self.scenario, names), cursor=len(names))

    def _cursor_moved(self, change) -> None:
        step = change["new"]
        self.timeline.set_cursor(step)
        if self.trace is not None and 0 <= step <= len(self.trace.moves):
            self.status.value = status_html(self.trace, step)

    # -- keeping the widgets in step ------------------------------------------

    def _refresh_controls(self) -> None:
        scheduling = self.mode == "scheduler"
        self.when.disabled = scheduling
        self.worst_button.disabled = scheduling
        why = "you are the scheduler: your clicks are the schedule (switch it off to use this)"
        self.when.tooltip = why if scheduling else ("left: how many VM steps run before the fault reads the pte; "
                                                   "right: before it installs its entry")
        self.worst_button.tooltip = why if scheduling else "load the shortest schedule that breaks an invariant here"

    def _reload(self) -> None:
        if self.mode == "scheduler":
            self._load(simulate(self.scenario, self.scheduler.names), cursor=len(self.scheduler.names))
        else:
            low, high = self.when.value
            self._load(simulate(self.scenario, interleave(self.scenario, low, high)))

    def _load(self, trace, cursor=None) -> None:
        """Show ``trace``; the cursor goes to its first broken step, else to its end."""
        self.trace = trace
        n = len(trace.moves)
        if cursor is None:
            broken = [k for k, names in enumerate(trace.violations, start=1) if names]
            cursor = broken[0] if broken else n
        self.timeline.show(trace)
        self.verdict.value = verdict_html(trace)
        for widget in (self.play, self.cursor):
            if n >= widget.max:
                widget.max = max(n, 1)
        self.cursor.value = cursor
        for widget in (self.play, self.cursor):
            widget.max = max(n, 1)
        self.timeline.set_cursor(cursor)
        self.status.value = status_html(trace, cursor)
        self.table.value = events(trace).to_html(index=False, border=0, classes="labkit-events")
        self.text.value = f"<pre style='font-size:11px'>{html.escape(time_table(trace))}</pre>"
        self.csv.value = csv_link(trace)

    # -- reading it back -------------------------------------------------------

    @property
    def status_text(self) -> str:
        return status(self.trace, self.cursor.value)

    def time_table(self) -> str:
        return time_table(self.trace)

    def trace_csv(self) -> str:
        return trace_csv(self.trace)

    def show(self):
        from IPython.display import display
        display(self)

    def __repr__(self) -> str:
        return f"Lab({self.scenario.label()}, {len(self.trace.moves)} steps, cursor at {self.cursor.value})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle
