"""The lab's widgets, kernel side (no browser): every configuration builds, every control does something."""
import itertools

import pytest

import labkit
from labkit import Scenario, simulate
from labkit.core.kinds import word
from labkit.scenario import build
from labkit.search.schedules import interleave, vm_length
from labkit.tables.export import time_table, trace_csv
from labkit.widgets import Compare, Lab
from labkit.widgets.lab import DEFAULT_SPEED
from labkit.widgets.lanes import drawing, lane_names, placement_of, vm_places
from labkit.widgets.timeline import ALARM_LANE


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
        lanes = list(lab.timeline.y.domain)[::-1]
        assert lanes == [ALARM_LANE] + lane_names(lab.trace.model)
        assert lanes[1] == "pte[0]" and f"{lab.trace.model.secondary.entry}[0]" in lanes
        assert lab.timeline.steps == len(lab.trace.moves)


def test_refcount_pin_turns_use_after_free_into_safe(lab):
    """Same slider position: off shows a use after free; pin shows the same story safely."""
    assert "use after free" in lab.status_text
    assert "broken" in lab.verdict.value
    lab.controls.refmode.value = "pin"
    assert lab.scenario.refmode == "pin"
    assert "use after free" not in lab.status_text
    assert "is safe" in lab.verdict.value
    assert lab.when.index == (0, 8)


def test_controls_that_do_not_apply_are_disabled_with_a_reason(lab):
    assert not lab.controls.release.disabled
    lab.controls.op.value = "rmap"
    assert lab.controls.release.disabled and "only zap" in lab.controls.release.tooltip
    lab.controls.scheme.value = "gru"
    assert lab.controls.secondary.disabled and lab.controls.secondary.value == "gru"
    assert lab.trace.scenario.secondary == "gru"
    lab.scheduling.value = True
    assert lab.when.disabled and lab.worst_button.disabled and "scheduler" in lab.when.tooltip


def test_a_control_set_to_a_combination_the_model_refuses_goes_back_to_what_is_drawn(lab):
    lab.set(scheme="gru")
    lab.controls.secondary.value = "kvm"          # disabled in the page; a script can still try
    assert lab.controls.secondary.value == "gru" == lab.trace.scenario.secondary
    assert lab.trace.scenario == lab.scenario == lab.controls.scenario(lab.scenario)


def test_only_the_controls_asked_for_are_shown():
    lab = Lab(controls=("refmode",))
    shown = [row.children for row in lab.controls.widget.children]
    assert shown == [(lab.controls.refmode,)]
    lab.controls.refmode.value = "pin"            # every control still exists and works
    assert lab.trace.scenario.refmode == "pin"
    with pytest.raises(ValueError, match="choose from op, refmode, scheme"):
        Lab(controls=("refcount",))


def test_slider_positions_are_named_by_the_vm_operations_steps(lab):
    labels = [label for label, _ in lab.when.options]
    assert labels[0] == "0: before down_read(mmap_sem)"       # madvise(MADV_DONTNEED), the default caller
    assert "2: after range_start: lock" in labels and "6: after clear pte" in labels and "8: after free" in labels
    assert lab.when.label == ("0: before down_read(mmap_sem)", "8: after free")
    assert "installs its entry <b>8: after free</b>" in lab.placement.value
    assert len(labels) == vm_length(lab.scenario) + 1


def test_slider_gives_the_interleave_schedule(lab):
    lab.move(2, 9)
    assert lab.trace.schedule == interleave(lab.scenario, 2, 9)
    assert lab.cursor.max == len(lab.trace.moves)


def test_op_change_renames_and_rescales_the_schedule_slider(lab):
    lab.controls.op.value = "cow"
    assert [label for label, _ in lab.when.options] == vm_places(build(lab.scenario))
    assert lab.when.index[1] <= vm_length(lab.scenario)
    assert lab.trace.schedule == interleave(lab.scenario, *lab.when.index)


def test_cursor_moves_status_and_veil(lab):
    lab.step_to(0)
    assert lab.status_text.startswith("step 0: nothing has run yet")
    assert lab.timeline.veil_scale.mid == 0
    lab.step_to(5)
    assert lab.status_text.startswith("step 5:") and lab.timeline.veil_scale.mid == 5
    assert lab.play.max == lab.cursor.max


def test_play_defaults_to_a_speed_a_class_can_follow(lab):
    assert lab.play.interval == lab.speed.value == DEFAULT_SPEED == 1000


def test_a_safe_run_ends_in_calm_words():
    """The allocator reusing a page nothing maps any more is ordinary, not alarming."""
    lab = Lab(op="zap", scheme="range", refmode="pin")
    lab.step_to(lab.cursor.max)
    assert "ordinary reuse of free memory" in lab.status_text
    assert "another task gets a freed page" not in lab.status_text


# -- the worst case -------------------------------------------------------------------

def test_worst_case_loads_a_replayable_violating_schedule():
    lab = Lab(op="zap", scheme="range", refmode="pin")
    lab.worst_case()
    assert lab.mode == "worst" and "worst case" in lab.messages.text
    replay = simulate(lab.scenario, lab.trace.schedule)
    assert replay.violated() and replay.violated() == lab.trace.violated()
    lab.move(1, 8)                                # the slider takes over again
    assert lab.mode == "slider" and lab.trace.schedule == interleave(lab.scenario, 1, 8)


def test_the_worst_case_puts_the_slider_handles_where_its_fault_read_and_installed(lab):
    lab.worst_case()
    assert lab.when.index == placement_of(lab.trace)
    vm, read, install = 0, None, None
    for name, move in zip(lab.trace.schedule, lab.trace.moves):
        vm += name == "vm"
        read = vm if move.step.kind == "pte_read" else read
        install = vm if move.step.kind == "install" else install
    assert lab.when.index == (read, install)


def test_worst_case_then_another_notifier_draws_the_new_notifier():
    """The issue's sequence: worst case on zap/range/off, then range_seq; from Python and from the control."""
    for change in ("python", "control"):
        lab = Lab(op="zap", scheme="range", refmode="off")
        lab.worst_case()
        assert "use_after_free" in lab.trace.violated()
        if change == "python":
            lab.set(scheme="range_seq")
        else:
            lab.controls.scheme.value = "range_seq"
            lab.wait()
        assert lab.trace.scenario.scheme == "range_seq"
        assert "no schedule of zap/range_seq/off/kvm breaks any invariant" in lab.messages.text
        assert "labkit-safe" in lab.verdict.value
        assert lab.mode == "slider" and lab.trace.schedule == interleave(lab.scenario, *lab.when.index)


def test_worst_case_says_so_when_nothing_breaks():
    lab = Lab(op="zap", scheme="range_seq", refmode="off")
    lab.worst_case()
    assert "no schedule" in lab.messages.text and lab.mode == "slider"
    assert lab.trace.scenario == lab.scenario


def test_a_search_cut_short_says_unknown_never_safe():
    lab = Lab(op="zap", scheme="range_seq", refmode="off", max_states=50)
    lab.worst_case()
    assert lab.messages.text.startswith("unknown:") and "proves nothing" in lab.messages.text
    assert "no schedule" not in lab.messages.text


def test_the_button_searches_in_the_background_and_can_be_cancelled():
    big = dict(op="zap", scheme="range_seq", refmode="off", vcpus=3, pages=2, accesses=2)
    lab = Lab(**big)
    before = lab.trace
    lab.worst_button.click()
    assert lab.search.running and lab.worst_button.description == "cancel search"
    assert lab.trace is before                    # the figure still shows the slider's run of this configuration
    lab.worst_button.click()
    lab.wait(10)
    assert not lab.search.running and lab.mode == "slider"
    assert "cancelled" in lab.messages.text and lab.worst_button.description == "worst case"
    assert lab.trace == before


def test_a_configuration_change_discards_a_running_search():
    lab = Lab(op="zap", scheme="range_seq", refmode="off", vcpus=3, pages=2, accesses=2)
    lab.worst_button.click()
    lab.controls.refmode.value = "pin"            # the search was about refmode off: it must not land
    lab.cancel()
    lab.wait(10)
    assert lab.trace.scenario.refmode == "pin"
    assert lab.trace.schedule == interleave(lab.scenario, *lab.when.index)


def test_the_button_loads_the_worst_case_when_the_search_finishes():
    lab = Lab(op="zap", scheme="range", refmode="off")
    lab.worst_button.click()
    lab.wait(10)
    assert lab.mode == "worst" and "worst case" in lab.messages.text
    assert lab.trace.violated() and lab.when.index == placement_of(lab.trace)


# -- the scheduler game ---------------------------------------------------------------------

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


def test_a_blocked_thread_says_which_lock_it_waits_for_and_who_holds_it(lab):
    lab.scheduling.value = True
    for name in ("fault", "vm", "vm", "vm", "vm"):
        lab.scheduler.buttons[name].click()
    assert "waits for the PTL, held by fault" in lab.scheduler.listings["vm"].value
    assert "waits for a freed page" in lab.scheduler.listings["allocator"].value


def test_scheduler_lists_each_program_with_the_next_step_marked(lab):
    lab.scheduling.value = True
    lab.scheduler.buttons["vm"].click()
    lab.scheduler.buttons["vm"].click()
    listing = lab.scheduler.listings["vm"].value
    assert listing.count("▶") == 1
    assert "▶ range_start: zap" in listing       # after down_read and range_start's lock: kvm_unmap_hva


def test_scheduler_runs_a_thread_to_the_end(lab):
    lab.scheduling.value = True
    while not lab.scheduler.buttons["vm"].disabled:
        lab.scheduler.buttons["vm"].click()
    assert lab.scheduler.buttons["vm"].tooltip == "vm has finished"
    assert len(lab.trace.moves) == vm_length(lab.scenario)


def test_scheduler_game_is_won_at_the_step_that_breaks_the_goal(lab):
    lab.scheduling.value = True
    assert "Goal: make the guest touch a freed page." in lab.scheduler.goal_line.value
    for name in interleave(lab.scenario, 0, 8)[:15]:       # up to the guest's access
        lab.scheduler.buttons[name].click()
    assert lab.scheduler.outcome == "win" and "You win: step 15" in lab.scheduler.ending.value


def test_scheduler_game_is_lost_when_every_thread_finishes_without_the_goal():
    lab = Lab(op="zap", scheme="range", refmode="pin")
    lab.scheduling.value = True
    for name in interleave(lab.scenario, 0, 8):
        lab.scheduler.buttons[name].click()
    assert lab.scheduler.outcome == "lose" and "try another order" in lab.scheduler.ending.value


def test_the_goal_is_set_by_the_lab_or_the_scheduler():
    lab = Lab(goal="stale")
    lab.scheduling.value = True
    assert "still mapping a page the pte no longer maps" in lab.scheduler.goal_line.value
    lab.scheduler.set_goal(None)
    assert "No goal" in lab.scheduler.goal_line.value and lab.scheduler.outcome is None
    with pytest.raises(ValueError, match="unknown invariant"):
        lab.scheduler.set_goal("win")


def test_bad_input_shows_a_message_not_an_exception(lab):
    lab.scheduling.value = True
    allocator = lab.scheduler.buttons["allocator"]
    assert allocator.disabled
    allocator._click_handlers(allocator)          # a click that reaches the kernel anyway
    assert "cannot run now" in lab.messages.text
    lab._guard(lambda: Scenario("zap", "nonsense", "off"))()
    assert "scheme='nonsense' is not valid" in lab.messages.text


# -- the drawing ------------------------------------------------------------------------------

def _trace(scheme="range", refmode="off", read_after=0, install_after=8, **fields):
    scenario = Scenario("zap", scheme, refmode, **fields)
    return simulate(scenario, interleave(scenario, read_after, min(install_after, vm_length(scenario))))


def test_drawing_has_lanes_bars_and_markers():
    trace = _trace()
    d = drawing(trace)
    assert d.lanes == ["pte[0]", "fault remembers", "spte[0]", "page P", "PTL", "kvm->mmu_lock", "mmap_sem",
                       "vm", "fault", "guest", "allocator"]
    assert len(d.dot_x) == len(trace.moves)
    assert [hook for _, _, hook in d.calls] == ["invalidate_range_start", "invalidate_range_end"]
    assert len(d.clears) == 1 and len(d.windows) == 1
    assert ("use_after_free" in {v for _, v in d.violations})
    assert any("FREED" in text for _, _, text, _ in d.bar_text)


def _bars(d, lane):
    return [(x0, x1, text) for (x0, x1), (_, y, text, _) in zip(d.bar_x, d.bar_text) if y == lane]


def test_what_the_fault_remembered_is_drawn_from_its_read_to_its_install():
    d = drawing(_trace("range_seq"))
    memory = _bars(d, "fault remembers")
    assert memory[0] == (1, 3, "seq 0")                     # seq = mmu_notifier_seq, before the walk
    assert memory[1] == (3, 11, "seq 0 · pfn P")            # the pte read at step 3
    assert memory[2] == (11, 14, "seq 0 · pfn P")           # the pte is cleared: the pfn is stale now
    colours = [c for c, (_, y, _, _) in zip(d.bar_colours, d.bar_text) if y == "fault remembers"]
    assert colours[1] != colours[2]
    # the second attempt finds no pte: it refaults (a new page N) and walks again, its seq still saved
    assert memory[3:] == [(16, 22, "seq 0"), (22, 25, "seq 0 · pfn N")]


def test_the_retry_is_marked_where_the_check_fails():
    trace = _trace("range_seq")
    d = drawing(trace)
    assert d.retries[0] == (14, "fault")
    assert d.dot_text[13] == "check ✗ retry" and trace.moves[13].step.kind == "check"
    assert d.dot_roles[13] == "retry" and d.dot_roles.count("retry") == len(d.retries)


def test_counter_and_lock_lanes_follow_the_state():
    d = drawing(_trace("range_seq"))
    assert [text for _, _, text in _bars(d, "mmu_notifier_count")] == ["0", "1", "0"]
    assert [text for _, _, text in _bars(d, "mmu_notifier_seq")] == ["0", "1"]
    assert [text for _, _, text in _bars(d, "PTL")][:3] == ["fault", "vm", "fault"]
    assert [text for _, _, text in _bars(d, "mmap_sem")] == ["read ×1"]         # madvise reads mmap_sem
    munmap = drawing(_trace(caller="munmap"))
    assert any(text == "write (vm)" for _, _, text in _bars(munmap, "mmap_sem"))
    reclaim = drawing(simulate(Scenario("rmap", "page", "pin"), "in_order"))
    assert "page lock" in reclaim.lanes and _bars(reclaim, "page lock")


@pytest.mark.parametrize("scheme", ["range_block", "range_seq", "page_seq", "gru"])
def test_every_dot_is_labelled_by_its_own_step(scheme):
    """range_block's range_active-- says so (it once borrowed a neighbour's seq++)."""
    trace = _trace(scheme, secondary=driver_for(scheme))
    d = drawing(trace)
    for text, move in zip(d.dot_text, trace.moves):
        assert text.startswith(word(move.step))
    if scheme == "range_block":
        assert "range_active--" in d.dot_text and not any("seq" in text for text in d.dot_text)


def test_labels_never_overlap_and_stay_inside_the_plot():
    """The layout, with the widths the timeline assumes: no two words of a row share pixels, none sticks out."""
    from labkit.widgets.lanes import text_px
    from labkit.widgets.timeline import ALARM_PX, DOT_TEXT_PX
    for scheme, secondary in [(scheme, driver_for(scheme)) for scheme in labkit.SCHEMES] + [("range", "xpmem")]:
        lab = Lab(scheme=scheme, secondary=secondary, release="after_end")
        lab.worst_case()
        timeline, d = lab.timeline, lab.timeline.drawn
        right = d.span + 1
        px = timeline.px_per_x(right)
        rows = [(timeline.above, DOT_TEXT_PX, False), (timeline.below, DOT_TEXT_PX, False)]
        for mark, size, bold in rows + [(alarm, ALARM_PX, True) for alarm in timeline.alarms]:
            spans = sorted((x - text_px(t, size, bold) / 2 / px, x + text_px(t, size, bold) / 2 / px, y)
                           for x, y, t in zip(mark.x, mark.y, mark.text) if t)
            for (a0, a1, y), (b0, _, z) in zip(spans, spans[1:]):
                assert y != z or a1 <= b0, (scheme, mark.text)
            assert all(-0.5 <= a0 and a1 <= right for a0, a1, _ in spans), (scheme, mark.text)
    xpmem = Lab(scheme="range", secondary="xpmem", refmode="off_under_ptl")   # sleeps under the PTL, step after step
    said = sum(text.count("SLEEP IN ATOMIC") for mark in xpmem.timeline.alarms for text in mark.text)
    broken = [x for x, name in xpmem.timeline.drawn.violations if name == "sleep_in_atomic"]
    assert 1 <= said < len(broken)                # consecutive steps share one alarm


def test_a_word_with_no_room_gives_way_and_an_edge_word_moves_inside():
    from labkit.widgets.lanes import place
    crowded = place([(0, "vm", "lock"), (0.1, "vm", "clear pte"), (0.2, "vm", "unlock")], 30, 2, 10,
                    important=lambda item: item[2] != "unlock")
    assert [where and where[0] for where in crowded] == [0, 1, None]
    (row, x), = place([(0, "fault", "seq = mmu_notifier_seq")], 30, 2, 10, bounds=(-0.5, 20))
    assert row == 0 and x > 0


def test_the_left_margin_fits_the_longest_lane_name():
    lab = Lab(scheme="range", secondary="xpmem")
    short = lab.timeline.left_px
    lab.set(secondary="gru")
    assert lab.timeline.figure.fig_margin["left"] == lab.timeline.left_px
    lab.set(secondary="xpmem")
    assert lab.timeline.left_px == short > Lab().timeline.left_px


# -- compare -----------------------------------------------------------------------------

def test_compare_shares_the_cursor():
    compare = Compare.refcount("zap", "range", read_after=0, install_after=8)
    left, right = compare.sides
    assert "use after free" in left.status.value and "use after free" not in right.status.value
    compare.cursor.value = 3
    assert left.timeline.veil_scale.mid == right.timeline.veil_scale.mid == 3
    assert left.timeline.x.max == right.timeline.x.max
    compare.cursor.value = compare.cursor.max
    assert "step" in left.status.value and "step" in right.status.value


def test_compare_lines_up_the_two_runs_by_story():
    """pin adds a get_page: the guest's access still shares its x, and the cursor shows it on both sides."""
    compare = Compare.refcount("zap", "range", read_after=0, install_after=8)
    left, right = compare.sides
    access = [[side.xs[k] for k, move in enumerate(side.trace.moves, start=1) if move.step.kind == "access"]
              for side in compare.sides]
    assert access[0] == access[1]
    vm = [[side.xs[k] for k, name in enumerate(side.trace.schedule, start=1) if name == "vm"] for side in compare.sides]
    assert vm[0] == vm[1]
    compare.cursor.value = access[0][0]
    assert "uses page P" in left.status.value and "uses page P" in right.status.value
    assert "get_page" in right.timeline.drawn.dot_text and "get_page" not in left.timeline.drawn.dot_text


def test_compare_has_a_legend():
    compare = Compare.refcount()
    assert "one moment" in compare.legend.value and "labkit-legend" in compare.legend.value


# -- reading it back ---------------------------------------------------------------------

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


def test_the_tables_under_the_figure_are_filled_when_opened_and_follow_the_run(lab):
    assert lab.table.value == ""                  # folded: nothing computed, nothing sent
    lab.details.selected_index = 0
    assert lab.table.value.count("<tr") == len(lab.trace.moves) + 1          # a row per step, and the header
    lab.move(1, 9)
    assert lab.table.value.count("<tr") == len(lab.trace.moves) + 1 and lab.trace.scenario.label() in lab.csv.value.replace("-", "/")


def test_repr_is_short_and_deterministic(lab):
    assert repr(lab) == "Lab(zap/range/off/kvm, 20 steps, cursor at 15)"
    assert lab._repr_mimebundle_()["text/plain"] == repr(lab)


def test_a_defeated_reclaim_is_an_outcome_not_a_broken_run():
    """reclaim_defeated is what a pin costs, not a memory-safety bug: the lab says it in its own colour and words."""
    scenario = Scenario(op="rmap", scheme="page", refmode="pin")
    lab = Lab(scenario, read_after=0, install_after=labkit.after(scenario, kind="reclaim") - 1)
    assert lab.trace.violated() == ("reclaim_defeated",)
    assert "labkit-outcome" in lab.verdict.value and "broken" not in lab.verdict.value
    assert "reclaim defeated" in lab.verdict.value
