"""The figure always describes the controls: Hypothesis drives the lab through random sequences of actions.

Each rule is something a student (or a notebook) can do: change any control
(even one that is disabled in the page), move the schedule slider or the
cursor, press worst case (it searches in the background) or ask for it from
Python (it waits), cancel, switch the scheduler on or off and click threads,
undo, reset, play.  After every action the invariant checks, under the lab's
lock (a background search may land at any moment), that what is drawn, the
verdict, the status line and the slider belong to the configuration the
controls show.  On a failure Hypothesis prints the shortest sequence of
actions that breaks it.
"""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from labkit.scenario import build
from labkit.search.schedules import interleave
from labkit.search.trace import simulate
from labkit.widgets import Lab
from labkit.widgets.controls import FIELDS
from labkit.widgets.lab import status_html, verdict_html
from labkit.widgets.lanes import drawing, placement_of, vm_places


def values(widget) -> list:
    return [option[1] if isinstance(option, tuple) else option for option in widget.options]


class LabActions(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.lab = Lab(op="zap", scheme="range", refmode="off", read_after=0, install_after=7)

    def teardown(self):
        self.lab.cancel()
        self.lab.wait(30)

    # -- the controls ------------------------------------------------------------------

    @rule(field=st.sampled_from(FIELDS), data=st.data())
    def use_a_control(self, field, data):
        widget = getattr(self.lab.controls, field)
        widget.value = data.draw(st.sampled_from(values(widget)), label=field)

    @rule(data=st.data())
    def set_from_python(self, data):
        """``lab.set``: a combination the model refuses (refmode pin on the IOMMU) raises and changes nothing."""
        field = data.draw(st.sampled_from(("refmode", "scheme", "op", "secondary")))
        widget = getattr(self.lab.controls, field)
        before = self.lab.trace
        try:
            self.lab.set(**{field: data.draw(st.sampled_from(values(widget)))})
        except ValueError:
            assert self.lab.trace is before

    @precondition(lambda self: not self.lab.when.disabled)
    @rule(data=st.data())
    def move_the_schedule_slider(self, data):
        n = len(self.lab.when.options) - 1
        high = data.draw(st.integers(0, n))
        self.lab.when.index = (data.draw(st.integers(0, high)), high)

    # A background search may land between two rules and change the trace's length, so positions
    # are drawn as a share of the range (Hypothesis must draw the same data when it replays).

    @rule(share=st.integers(0, 1000))
    def move_the_cursor(self, share):
        self.lab.cursor.value = share * self.lab.cursor.max // 1000

    @rule(share=st.integers(0, 1000), stop=st.booleans())
    def play_a_frame(self, share, stop):
        """What the Play widget sends while it plays: a new value (then maybe it stops)."""
        self.lab.play.playing = True
        self.lab.play.value = share * self.lab.play.max // 1000
        self.lab.play.playing = not stop

    @rule(speed=st.sampled_from([1000, 500, 200, 100]))
    def change_the_speed(self, speed):
        self.lab.speed.value = speed

    # -- the worst case ------------------------------------------------------------------

    @precondition(lambda self: not self.lab.worst_button.disabled)
    @rule()
    def press_worst_case(self):
        self.lab.worst_button.click()

    @precondition(lambda self: self.lab.mode != "scheduler")
    @rule()
    def worst_case_from_python(self):
        self.lab.worst_case()

    @rule()
    def wait_for_the_search(self):
        self.lab.wait(30)

    @rule()
    def cancel(self):
        self.lab.cancel()

    # -- the scheduler ----------------------------------------------------------------------

    @rule(on=st.booleans())
    def toggle_the_scheduler(self, on):
        self.lab.scheduling.value = on

    @precondition(lambda self: self.lab.mode == "scheduler")
    @rule(pick=st.integers(0, 7))
    def click_a_thread(self, pick):
        buttons = [b for b in self.lab.scheduler.buttons.values() if not b.disabled]
        if buttons:
            buttons[pick % len(buttons)].click()

    @precondition(lambda self: self.lab.mode == "scheduler" and not self.lab.scheduler.undo_button.disabled)
    @rule()
    def undo(self):
        self.lab.scheduler.undo_button.click()

    @precondition(lambda self: self.lab.mode == "scheduler" and not self.lab.scheduler.reset_button.disabled)
    @rule()
    def reset(self):
        self.lab.scheduler.reset_button.click()

    # -- what must always hold ----------------------------------------------------------------

    @invariant()
    def the_figure_describes_the_controls(self):
        lab = self.lab
        with lab.lock:
            trace = lab.trace
            scenario = lab.controls.scenario(lab.scenario)
            assert trace.scenario == scenario == lab.scenario
            assert lab.timeline.drawn == drawing(trace)
            assert lab.verdict.value == verdict_html(trace)
            n = len(trace.moves)
            assert 0 <= lab.cursor.value <= n and lab.cursor.max == lab.play.max == max(n, 1)
            assert lab.status.value == status_html(trace, lab.cursor.value)
            assert lab.timeline.veil_scale.mid == lab.cursor.value
            assert [label for label, _ in lab.when.options] == vm_places(build(scenario))
            assert lab.scheduling.value == (lab.mode == "scheduler")
            if lab.mode == "scheduler":
                assert trace.schedule == tuple(lab.scheduler.names)
                assert lab.scheduler.model.scenario == scenario
            elif lab.mode == "worst":   # a worst case found, or (while searching) still the slider's run
                slider = trace.schedule == interleave(scenario, *lab.when.index)
                worst = bool(trace.violated()) and lab.when.index == placement_of(trace)
                assert worst or (lab.searching and slider)
            else:
                assert trace.schedule == interleave(scenario, *lab.when.index)
                # states are values; a model rebuilt once build's cache let it go has steps with new closures
                replay = simulate(scenario, trace.schedule)
                assert (trace.states, trace.violations) == (replay.states, replay.violations)
            assert lab.worst_button.description == ("cancel search" if lab.searching else "worst case")
            assert lab.searching <= (lab.mode == "worst")


LabActions.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
test_the_figure_always_describes_the_controls = LabActions.TestCase
