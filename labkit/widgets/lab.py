"""The lab: controls, the timeline, the cursor, the status line and the tables, wired together.

All the model work goes through ``simulate``, ``interleave`` and ``explore``;
this module only decides which schedule to show and keeps the widgets in step.

The figure always describes the controls.  Whatever the user did last
(a control, the schedule slider, worst case, the scheduler, undo, play), the
drawn trace, the verdict, the status line and the slider's positions belong
to the configuration the controls show:

* ``slider`` mode shows ``interleave(scenario, *slider)``;
* ``worst`` mode shows the slider's run while the search runs, then the
  search's counterexample, with the slider's handles where that run's fault
  read the pte and installed (``lanes.placement_of``); a search that finds
  nothing says so and the lab goes back to the slider's run;
* ``scheduler`` mode shows the steps clicked so far.

A new configuration cancels a running search (its result would describe the
old one) and, in worst mode, starts a new one.  Every callback holds the
lab's lock, and so does a background search's result when it arrives.
"""
from __future__ import annotations

import base64
import html
import threading
from functools import lru_cache

import ipywidgets as widgets

from ..core.checks import whole
from ..core.invariants import invariant
from ..scenario import Scenario, build
from ..search.schedules import interleave, position
from ..search.trace import in_order_schedule, simulate
from ..tables.export import time_table, trace_csv
from ..tables.narrate import events, status
from . import palette
from .controls import FIELDS, Controls, fitted
from .guard import Messages, guard, readable
from .lanes import Handles, handle_words, placement_of, vm_places
from .scheduler import DEFAULT_GOAL, Scheduler
from .shown import Shown
from .timeline import Timeline
from .worst import EXPLORE_LIMIT, Background, budget, search

SPEEDS = [("1 step/s", 1000), ("2 steps/s", 500), ("5 steps/s", 200), ("10 steps/s", 100)]
#: A class can follow one step a second; faster speeds are a click away.
DEFAULT_SPEED = 1000
SLIDER_TIP = ("left handle: after which of the VM operation's steps the secondary fault reads the pte; "
              "right handle: after which it installs its entry and the guest accesses (cow2: the VM operation's "
              "steps are both COWs' and the CPU writer's, in the order the positions name)")
#: What the handles place unless told (``lanes.handle_words`` says it for each configuration).
HANDLES = Handles("the fault reads the pte", "installs its entry", "installs", "fault reads | installs")


def verdict_html(trace) -> str:
    """One line for the whole run: which invariants broke and where, an outcome to notice, or that it was safe.

    An outcome (reclaim defeated by a pin) is not a memory-safety bug: it is
    said in its own colour, never as "broken".
    """
    n = len(trace.moves)
    said = [(name, invariant(name)) for name in trace.violated()]
    bugs = [f"{record.words} at step {trace.first_violation(name)}" for name, record in said if not record.outcome]
    notes = [f"{record.words} at step {trace.first_violation(name)}" for name, record in said if record.outcome]
    if bugs:
        also = f"; and {', '.join(notes)}" if notes else ""
        return (f'<div class="labkit-verdict labkit-broken" style="border-left:6px solid {palette.VIOLATION};'
                f'padding:2px 8px;font-weight:bold">✖ This run ({n} steps) is broken: '
                f'{html.escape(", ".join(bugs) + also)}</div>')
    ended = "" if trace.finished else " so far (not every thread has finished)"
    if notes:
        return (f'<div class="labkit-verdict labkit-outcome" style="border-left:6px solid {palette.ORANGE};'
                f'padding:2px 8px">⚑ This run ({n} steps) breaks no invariant{ended}, with an outcome to notice: '
                f'{html.escape(", ".join(notes))}</div>')
    return (f'<div class="labkit-verdict labkit-safe" style="border-left:6px solid {palette.GREEN};'
            f'padding:2px 8px">✔ This run ({n} steps) is safe{ended}: no invariant broken</div>')


@lru_cache(maxsize=128)
def slider_run(scenario: Scenario, read_after: int, install_after: int):
    """The run the schedule slider shows (a Trace is a value: a student scrubbing back and forth reuses it)."""
    return simulate(scenario, interleave(scenario, read_after, install_after))


def status_html(trace, step: int) -> str:
    text = html.escape(status(trace, step))
    broken = trace.violations[step - 1] if step else ()
    if any(not invariant(name).outcome for name in broken):
        return (f'<div class="labkit-status labkit-broken" style="background:{palette.VIOLATION};color:#fff;'
                f'padding:3px 8px;border-radius:3px;font-weight:bold">{text}</div>')
    if broken:
        return (f'<div class="labkit-status labkit-outcome" style="background:{palette.ORANGE};color:#000;'
                f'padding:3px 8px;border-radius:3px">{text}</div>')
    return f'<div class="labkit-status" style="padding:3px 8px;border:1px solid {palette.NEUTRAL};border-radius:3px">{text}</div>'


def csv_link(trace) -> str:
    """A link that saves the trace as CSV, named after the configuration (a scheme's name is the user's)."""
    data = base64.b64encode(trace_csv(trace).encode()).decode()
    name = trace.scenario.label().replace("/", "-") + ".csv"
    return (f'<a download="{html.escape(name, quote=True)}" href="data:text/csv;base64,{data}">'
            f"download this trace as CSV ({html.escape(name)})</a>")


def placement_html(labels, handles=HANDLES) -> str:
    """The words under the slider: what each handle places, and after which step."""
    read, install = labels
    return (f'<span style="font-size:12px">{html.escape(handles.read)} <b>{html.escape(read)}</b>'
            f" · {html.escape(handles.install)} <b>{html.escape(install)}</b></span>")


def schedule_slider(places, read_after: int, install_after: int, handles=HANDLES):
    """The schedule slider and the words under it: its positions are named by the VM operation's steps.

    The names come from ``lanes.vm_places`` ("0: before range_start", "7:
    after free"); the words say what each handle means, in full, where the
    slider's own readout would squeeze both names into one short box.
    ``handles`` are those words (``lanes.handle_words``); ``words.handles``
    holds them, for a configuration change to replace.
    """
    slider = widgets.SelectionRangeSlider(
        options=[(place, k) for k, place in enumerate(places)], index=(read_after, install_after),
        description=handles.label, style={"description_width": "initial"}, readout=False,
        layout=widgets.Layout(width="520px"), continuous_update=True, tooltip=SLIDER_TIP)
    slider.add_class("labkit-schedule")
    words = widgets.HTML()
    words.add_class("labkit-placement")
    words.handles = handles

    def describe(change=None):
        words.value = placement_html(slider.label, words.handles)
    slider.observe(describe, names="label")
    describe()
    return slider, words


#: Where the install handle starts unless told: after step 8, or at the end of a shorter operation.
DEFAULT_INSTALL_AFTER = 8


def checked_placement(places, read_after, install_after, default: bool = True):
    """The slider's handles for ``read_after``/``install_after``, checked where they enter the lab.

    Each is a whole number (NumPy's too) from 0 to the operation's steps;
    ``install_after=None`` means the end.  Where a default applies (a
    constructor), the default 8 stops at the end of a shorter operation.
    Anything else out of range is an error, not a handle put somewhere else
    without a word.
    """
    n = len(places) - 1
    if install_after is None:
        install_after = n
    elif default and not isinstance(install_after, bool) and install_after == DEFAULT_INSTALL_AFTER:
        install_after = min(DEFAULT_INSTALL_AFTER, n)
    read_after, install_after = position("read_after", read_after, n), position("install_after", install_after, n)
    if install_after < read_after:
        raise ValueError(f"install_after={install_after} is before read_after={read_after}; "
                         "the fault installs what it read")
    return read_after, install_after


class Lab(Shown):
    """The interactive timeline for one configuration.  Display it, or call ``show()``.

    ``read_after``/``install_after`` place the secondary fault among the VM
    operation's steps (see ``labkit.search.schedules.interleave``); the
    default, 0 and 8, makes zap/range install its spte inside the range
    window, after the pte was cleared: a use after free without a page
    reference, safe with one (a shorter operation: its end).  ``controls``
    names the controls to show (``("refmode",)``; default: all), ``goal``
    the invariant the scheduler game asks to break (None: free play),
    ``max_states`` the worst case's search budget (None: the lab's default,
    ``EXPLORE_LIMIT`` states).
    """

    def __init__(self, scenario: Scenario | None = None, read_after: int = 0,
                 install_after: int | None = DEFAULT_INSTALL_AFTER, *, controls=None, goal=DEFAULT_GOAL,
                 max_states: int | None = EXPLORE_LIMIT, **fields):
        if scenario is None:
            scenario = Scenario(op="zap", scheme="range", refmode="off")
        if fields:                       # replace() quotes an unknown field short, as every message does
            scenario = scenario.replace(**fields)
        self.scenario, self.mode, self.trace, self._quiet = scenario, "slider", None, False
        self.searching = False           # a background search for this configuration's worst case is running
        self.max_states = budget(max_states)
        self.lock = threading.RLock()
        self.listeners: list = []          # on_load callbacks: a window map beside the Lab follows it
        self.search = Background(self.lock)
        self.messages = Messages()
        self.timeline = Timeline()
        self.controls = Controls(scenario, shown=controls)
        places = vm_places(build(scenario))
        self.when, self.placement = schedule_slider(places, *checked_placement(places, read_after, install_after),
                                                    handles=handle_words(build(scenario)))
        self.worst_button = widgets.Button(description="worst case", icon="bolt",
                                           tooltip="search every schedule and load the shortest that breaks an "
                                                   "invariant here")
        self.worst_button.add_class("labkit-worst")
        self.progress = widgets.HTML()
        self.progress.add_class("labkit-progress")
        self.scheduling = widgets.ToggleButton(description="you are the scheduler", icon="hand-pointer-o",
                                               layout=widgets.Layout(width="auto"),
                                               tooltip="run the threads yourself, one atomic step per click")
        self.scheduler = Scheduler(self._scheduled, self._guard, goal=goal)
        self.scheduler.widget.layout.display = "none"
        self.cursor = widgets.IntSlider(min=0, max=1, value=0, description="step", continuous_update=True,
                                        layout=widgets.Layout(width="420px"))
        self.cursor.add_class("labkit-cursor")
        self.play = widgets.Play(min=0, max=1, value=0, interval=DEFAULT_SPEED, step=1, description="play",
                                 tooltip="step the cursor through the run")
        self.speed = widgets.Dropdown(options=SPEEDS, value=DEFAULT_SPEED, description="speed",
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
            widgets.HBox([self.when, self.worst_button, self.scheduling, self.progress],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.placement,
            self.scheduler.widget, self.verdict, self.timeline.figure,
            widgets.HBox([self.play, self.cursor, self.speed], layout=widgets.Layout(align_items="center")),
            self.status, self.messages.widget, self.legend, self.details])
        self.widget.add_class("labkit-lab")

        self.controls.observe(self._guard(self._configured))
        self.when.observe(self._guard(self._moved), names="index")
        self.worst_button.on_click(self._guard(self._worst_clicked))
        self.scheduling.observe(self._guard(self._toggle_scheduler), names="value")
        self.cursor.observe(self._guard(self._cursor_moved), names="value")
        self.details.observe(self._guard(self._fill_details), names="selected_index")
        self._refresh_buttons()
        self._reload()

    # -- errors and the lock ------------------------------------------------------

    def _guard(self, callback):
        guarded = guard(self.messages, callback)

        def locked(*args, **kwargs):
            with self.lock:
                return guarded(*args, **kwargs)
        return locked

    def _quietly(self, function, *args) -> None:
        """Change widgets without their observers reacting (the caller redraws once, after)."""
        self._quiet = True
        try:
            function(*args)
        finally:
            self._quiet = False

    # -- what the user does ----------------------------------------------------

    def set(self, **changes) -> None:
        """Change the configuration as if the controls were used (``lab.set(refmode="pin")``).

        As with the controls, a scheme that drives only some secondaries brings
        the first of them along (``lab.set(scheme="gru")`` picks the GRU), and
        so on (``controls.fitted``).
        """
        with self.lock:
            current = {name: getattr(self.scenario, name) for name in FIELDS}
            if set(changes) & set(FIELDS) and not {"scheme", "secondary", "refmode"} <= set(changes):
                # what the controls would bring along (the fields named here win)
                fields = fitted({**current, **changes}, "secondary" if "secondary" in changes else None)
                changes = {**{k: v for k, v in fields.items() if v != current[k]}, **changes}
            scenario = self.scenario.replace(**changes)
            self._quietly(self.controls.set, scenario)
            self._apply(scenario, wait=True)

    def on_load(self, callback) -> None:
        """Call ``callback(trace)`` whenever the Lab draws a new run (any control, slider, button or ``set``)."""
        self.listeners.append(callback)

    def move(self, read_after: int, install_after: int) -> None:
        """Show the slider's run with its handles here (VM steps before the fault's pte read, and its install).

        Whatever the mode: the scheduler is switched off and a worst case
        (shown or still searching) gives way, so the figure is the slider's run.
        """
        with self.lock:
            placement = checked_placement(self.when.options, read_after, install_after, default=False)
            self._quietly(setattr, self.when, "index", placement)
            if self.mode == "scheduler":
                self.scheduling.value = False       # its observer draws the slider's run
            else:
                self._moved()

    def step_to(self, step: int) -> None:
        """Put the cursor after step ``step`` of the run drawn (0: before the first)."""
        with self.lock:
            self.cursor.value = whole("step", step, 0, len(self.trace.moves), " (the steps of the run drawn)")

    def worst_case(self, wait: bool = True) -> None:
        """Search every schedule and load the shortest that breaks the first invariant this configuration can break.

        ``wait=False`` searches in the background, as the button does; ``wait()`` waits for it.
        """
        with self.lock:
            self._worst(wait)

    def cancel(self) -> None:
        """Stop a running worst-case search; the figure stays on the slider's run."""
        with self.lock:
            if self.searching:
                self.search.cancel()
                self.mode = "slider"
                self._searching(False)
                self._reload()
                self.messages.say("search cancelled: the figure shows the slider's schedule")

    def wait(self, timeout: float | None = None) -> None:
        """Wait until a background search has finished (for tests and scripts)."""
        self.search.wait(timeout)

    # -- the worst case ---------------------------------------------------------------

    def _worst_clicked(self, _button) -> None:
        if self.searching:
            self.cancel()
        else:
            self._worst(wait=False)

    def _worst(self, wait: bool) -> None:
        if self.mode == "scheduler":
            raise ValueError("switch off 'you are the scheduler' to search for the worst case")
        self.search.cancel()
        self.mode = "worst"
        scenario, budget = self.scenario, self.max_states
        if wait:
            self._searching(False)
            try:
                outcome = search(scenario, budget)
            except BaseException:
                self.mode = "slider"          # nothing found: the figure stays the slider's run
                self._reload()
                raise
            self._found(outcome)
            return
        self._searching(True)
        self.search.start(lambda stop, progress: search(scenario, budget, stop, progress),
                          done=self._found, progress=self._progressed, failed=self._failed)

    def _searching(self, running: bool) -> None:
        self.searching = running
        self.worst_button.description = "cancel search" if running else "worst case"
        self.worst_button.icon = "stop" if running else "bolt"
        self.progress.value = (f'<span style="font-size:12px">searching every schedule of '
                               f"{html.escape(self.scenario.label())}…</span>" if running else "")

    def _progressed(self, states: int) -> None:
        self.progress.value = (f'<span style="font-size:12px">searching every schedule of '
                               f"{html.escape(self.scenario.label())}: {states:,} states "
                               f"(budget {self.max_states:,})</span>")

    def _failed(self, exc) -> None:
        self._searching(False)
        self.mode = "slider"
        self.messages.say(readable(exc), error=True)

    def _found(self, outcome) -> None:
        """A search's answer, for the configuration it was asked about (a stale one was cancelled)."""
        self._searching(False)
        if outcome.scenario != self.scenario or self.mode != "worst":
            return
        if outcome.invariant is None:
            self.mode = "slider"
            self._reload()
            self.messages.say(outcome.words())
            return
        trace = simulate(outcome.scenario, outcome.schedule)
        self._quietly(setattr, self.when, "index", placement_of(trace))
        self._load(trace)
        self.messages.say(outcome.words())

    # -- callbacks -------------------------------------------------------------

    def _configured(self, change=None) -> None:
        if self._quiet:
            return
        changed = self.controls.field_of(change["owner"]) if change else None
        self._quietly(self.controls.refresh, changed)     # a scheme may pick the secondary it requires, ...
        try:
            scenario = self.controls.scenario(self.scenario)
        except ValueError:
            self._quietly(self.controls.set, self.scenario)   # the controls go back to what is drawn
            raise
        self._apply(scenario, wait=False)

    def _apply(self, scenario: Scenario, wait: bool) -> None:
        """Show ``scenario``: a new run in the current mode (a running search for the old one is cancelled)."""
        self.search.cancel()
        self._searching(False)
        self.scenario = scenario
        self.messages.clear()
        self._refresh_slider()
        if self.mode == "scheduler":
            self.scheduler.start(scenario)
            self._reload()
            self.messages.say("the configuration changed: the schedule starts again from step 0")
        elif self.mode == "worst":
            self.mode = "slider"
            self._reload()
            self._worst(wait)
        else:
            self._reload()

    def _moved(self, change=None) -> None:
        if self._quiet:
            return
        if self.mode == "worst":
            self.search.cancel()
            self._searching(False)
            self.mode = "slider"
            self.messages.clear()
        if self.mode == "slider":
            self._reload()

    def _toggle_scheduler(self, change) -> None:
        on = change["new"]
        self.search.cancel()
        self._searching(False)
        self.messages.clear()
        self.mode = "scheduler" if on else "slider"
        self.scheduler.widget.layout.display = None if on else "none"
        self._refresh_buttons()
        if on:
            self.scheduler.start(self.scenario)
        self._reload()

    def _scheduled(self, names) -> None:
        self._load(self.scheduler.trace, cursor=len(names))

    def _whole_run(self) -> int:
        """How many steps a whole run of this configuration takes (in order, or the slider's): the scheduler's
        figure is that wide from its first step, so it fills from the left as the student clicks."""
        return max(len(in_order_schedule(build(self.scenario))),
                   len(interleave(self.scenario, *self.when.index)))

    def _cursor_moved(self, change=None) -> None:
        step = self.cursor.value         # not change["new"]: a search landing meanwhile may have moved it
        if self.trace is None:
            return
        if step > len(self.trace.moves):
            # a run of 0 steps still has a slider to 1 (noUiSlider refuses an empty range): stay at the end
            self.cursor.value = len(self.trace.moves)
            return
        self.timeline.set_cursor(step)
        self.status.value = status_html(self.trace, step)

    # -- keeping the widgets in step ------------------------------------------

    def _refresh_slider(self) -> None:
        """The slider's positions are the new configuration's VM steps; its handles stay where they can."""
        model = build(self.scenario)
        places = vm_places(model)
        handles = handle_words(model)
        if handles != self.placement.handles:
            self.placement.handles = handles
            self.placement.value = placement_html(self.when.label, handles)
            self.when.description = handles.label
        if list(self.when.options) == [(place, k) for k, place in enumerate(places)]:
            return
        low, high = self.when.index
        n = len(places) - 1

        def replace():
            with self.when.hold_sync():
                self.when.options = [(place, k) for k, place in enumerate(places)]
                self.when.index = (min(low, n), min(high, n))
        self._quietly(replace)

    def _refresh_buttons(self) -> None:
        scheduling = self.mode == "scheduler"
        self.when.disabled = scheduling
        self.placement.layout.display = "none" if scheduling else None
        self.worst_button.disabled = scheduling
        why = "you are the scheduler: your clicks are the schedule (switch it off to use this)"
        self.when.tooltip = why if scheduling else SLIDER_TIP
        self.worst_button.tooltip = why if scheduling else ("search every schedule and load the shortest that "
                                                            "breaks an invariant here")

    def _reload(self) -> None:
        if self.mode == "scheduler":
            self._load(self.scheduler.trace, cursor=len(self.scheduler.names))
        else:
            low, high = self.when.index
            self._load(slider_run(self.scenario, low, high))

    def _load(self, trace, cursor=None) -> None:
        """Show ``trace``; the cursor goes to its first broken step, else to its end."""
        self.trace = trace
        n = len(trace.moves)
        if cursor is None:
            broken = [k for k, names in enumerate(trace.violations, start=1) if names]
            cursor = broken[0] if broken else n
        self.timeline.show(trace, x_max=self._whole_run() if self.mode == "scheduler" else None)
        self.verdict.value = verdict_html(trace)
        for widget in (self.play, self.cursor):
            if n >= widget.max:
                widget.max = max(n, 1)
        self.cursor.value = cursor
        for widget in (self.play, self.cursor):
            widget.max = max(n, 1)
        self.timeline.set_cursor(cursor)
        self.status.value = status_html(trace, cursor)
        self._fill_details()
        for callback in self.listeners:
            callback(trace)

    def _fill_details(self, change=None) -> None:
        """The events table, the text version and the CSV link, only while the accordion is open.

        They are the largest messages a slider move would send (pandas' HTML
        table, the CSV in base64) and nobody sees them while they are folded.
        """
        if self.details.selected_index is None or self.trace is None:
            return
        trace = self.trace
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
