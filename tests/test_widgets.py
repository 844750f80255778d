"""The lab's widgets, kernel side (no browser): every configuration builds, every control does something."""
import itertools

import pytest

import labkit
from labkit import Scenario, simulate
from labkit.search.schedules import interleave, vm_length
from labkit.tables.export import time_table, trace_csv
from labkit.widgets import Compare, Lab
from labkit.widgets.lanes import drawing


@pytest.fixture
def lab():
    return Lab(op="zap", scheme="range", refmode="off", read_after=0, install_after=8)


def driver_for(scheme: str) -> str:
    """A secondary the scheme can drive (the gru scheme needs the GRU, the IOMMU's schemes an IOMMU)."""
    requires = labkit.SCHEMES[scheme].requires
    return requires[0] if requires else "kvm"


@pytest.mark.parametrize("op,scheme", list(itertools.product(labkit.OPS, labkit.SCHEMES)))
def test_lab_builds_for_every_configuration(op, scheme):
    """Every op x scheme x refmode draws a figure and a status line without a message."""
    secondary = driver_for(scheme)
    lab = Lab(op=op, scheme=scheme, refmode="off", secondary=secondary)
    for refmode in labkit.SECONDARIES[secondary].refmodes or labkit.REFMODES:
        lab.set(refmode=refmode)
        assert lab.messages.text == "", lab.messages.text
        assert lab.scenario == Scenario(op, scheme, refmode, secondary=secondary)
        assert lab.status_text.startswith(f"step {lab.cursor.value}")
        assert list(lab.timeline.y.domain)[::-1][:3] == ["pte[0]", f"{lab.trace.model.secondary.entry}[0]",
                                                         f"page {lab.trace.model.page_names[0]}"]
        assert lab.timeline.steps == len(lab.trace.moves)


def test_refcount_pin_turns_use_after_free_into_safe(lab):
    """Same slider position: off shows a use after free; pin shows the same story safely."""
    assert "use after free" in lab.status_text
    assert "broken" in lab.verdict.value
    lab.controls.refmode.value = "pin"
    assert lab.scenario.refmode == "pin"
    assert "use after free" not in lab.status_text
    assert "is safe" in lab.verdict.value
    assert lab.when.value == (0, 8)


def test_controls_that_do_not_apply_are_disabled_with_a_reason(lab):
    assert not lab.controls.release.disabled
    lab.controls.op.value = "rmap"
    assert lab.controls.release.disabled and "only zap" in lab.controls.release.tooltip
    lab.controls.scheme.value = "gru"
    assert lab.controls.secondary.disabled and lab.controls.secondary.value == "gru"
    lab.scheduling.value = True
    assert lab.when.disabled and lab.worst_button.disabled and "scheduler" in lab.when.tooltip


def test_slider_gives_the_interleave_schedule(lab):
    lab.move(2, 9)
    assert lab.trace.schedule == interleave(lab.scenario, 2, 9)
    assert lab.cursor.max == len(lab.trace.moves)


def test_op_change_rescales_the_schedule_slider(lab):
    lab.controls.op.value = "cow"
    assert lab.when.max == vm_length(lab.scenario)
    assert lab.when.value[1] <= lab.when.max


def test_cursor_moves_status_and_veil(lab):
    lab.step_to(0)
    assert lab.status_text.startswith("step 0: nothing has run yet")
    assert lab.timeline.veil_scale.mid == 0
    lab.step_to(5)
    assert lab.status_text.startswith("step 5:") and lab.timeline.veil_scale.mid == 5
    assert lab.play.max == lab.cursor.max


def test_scheduler_buttons_follow_the_engine(lab):
    """A button is enabled exactly when its thread can run; undo and reset go back."""
    lab.scheduling.value = True
    buttons = lab.scheduler.buttons
    assert lab.trace.moves == () and lab.cursor.value == 0
    assert not buttons["vm"].disabled and not buttons["fault"].disabled
    assert buttons["allocator"].disabled          # nothing has been freed yet
    buttons["fault"].click()                      # follow_page takes the PTL
    assert lab.trace.schedule == ("fault",)
    for _ in range(4):                            # down_read(mmap_sem); range_start: lock, kvm_unmap_hva, unlock
        buttons["vm"].click()
    assert buttons["vm"].disabled and "blocked" in buttons["vm"].tooltip   # zap_pte_range wants the PTL
    buttons["fault"].click()
    buttons["fault"].click()                      # follow_page drops the PTL
    assert not buttons["vm"].disabled
    assert lab.status_text.startswith("step 7:")
    lab.scheduler.undo_button.click()
    assert lab.trace.schedule == ("fault", "vm", "vm", "vm", "vm", "fault") and buttons["vm"].disabled
    lab.scheduler.reset_button.click()
    assert lab.trace.schedule == () and lab.scheduler.undo_button.disabled


def test_scheduler_runs_a_thread_to_the_end(lab):
    lab.scheduling.value = True
    while not lab.scheduler.buttons["vm"].disabled:
        lab.scheduler.buttons["vm"].click()
    assert lab.scheduler.buttons["vm"].tooltip == "vm has finished"
    assert len(lab.trace.moves) == vm_length(lab.scenario)


def test_worst_case_loads_a_replayable_violating_schedule():
    lab = Lab(op="zap", scheme="range", refmode="pin")
    lab.worst_button.click()
    assert lab.mode == "worst" and "worst case" in lab.messages.text
    replay = simulate(lab.scenario, lab.trace.schedule)
    assert replay.violated() and replay.violated() == lab.trace.violated()
    lab.move(1, 8)                                # the slider takes over again
    assert lab.mode == "slider"


def test_worst_case_says_so_when_nothing_breaks():
    lab = Lab(op="zap", scheme="range_seq", refmode="off")
    lab.worst_case()
    assert "no schedule" in lab.messages.text and lab.mode == "slider"


def test_bad_input_shows_a_message_not_an_exception(lab):
    lab.scheduling.value = True
    allocator = lab.scheduler.buttons["allocator"]
    assert allocator.disabled
    allocator._click_handlers(allocator)          # a click that reaches the kernel anyway
    assert "cannot run now" in lab.messages.text
    lab._guard(lambda: Scenario("zap", "nonsense", "off"))()
    assert "scheme='nonsense' is not valid" in lab.messages.text


def test_compare_shares_the_cursor():
    compare = Compare.refcount("zap", "range", read_after=0, install_after=8)
    left, right = compare.sides
    assert "use after free" in left.status.value and "use after free" not in right.status.value
    compare.cursor.value = 3
    assert left.timeline.veil_scale.mid == right.timeline.veil_scale.mid == 3
    assert left.timeline.x.max == right.timeline.x.max
    compare.cursor.value = compare.cursor.max
    assert "step" in left.status.value and "step" in right.status.value


def test_drawing_has_lanes_bars_and_markers():
    trace = simulate(Scenario("zap", "range", "off"), interleave(Scenario("zap", "range", "off"), 0, 8))
    d = drawing(trace)
    assert d.lanes == ["pte[0]", "spte[0]", "page P", "vm", "fault", "guest", "allocator"]
    assert len(d.dot_x) == len(trace.moves)
    assert [hook for _, _, hook in d.calls] == ["invalidate_range_start", "invalidate_range_end"]
    assert len(d.clears) == 1 and len(d.windows) == 1
    assert ("use_after_free" in {v for _, v in d.violations})
    assert any("FREED" in text for _, _, text, _ in d.bar_text)


def test_export_csv_and_time_table(lab):
    csv = lab.trace_csv()
    lines = csv.splitlines()
    assert lines[0] == "step,thread,action,pte,spte,refcount,page_state,violation,site"
    assert len(lines) == len(lab.trace.moves) + 1
    table = lab.time_table()
    assert table.count("[Time ") == len(lab.trace.moves) + 1
    block = table.split("[Time 1] ")[1].split("[Time 2]")[0].splitlines()
    assert [line.split()[0] for line in block[1:5]] == list(lab.trace.model.names)
    assert "BROKEN     use_after_free" in table
    assert trace_csv(lab.trace) == csv and time_table(lab.trace) == table


def test_repr_is_short_and_deterministic(lab):
    assert repr(lab) == "Lab(zap/range/off/kvm, 20 steps, cursor at 15)"
    assert lab._repr_mimebundle_()["text/plain"] == repr(lab)
