"""Pictures without a kernel: static SVG of the timeline and of the two page tables, byte for byte the same."""
import errno
import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from labkit import Scenario, simulate
from labkit.core.invariants import TABLE
from labkit.core.kinds import PTE_CLEAR
from labkit.search.schedules import interleave, vm_length
from labkit.widgets import CLAIMS, palette, picture
from labkit.widgets.lanes import drawing

SVG = "{http://www.w3.org/2000/svg}"
C4 = Scenario(op="zap", scheme="range", refmode="off")
READ, INSTALL = CLAIMS["C4"].read_after, CLAIMS["C4"].install_after       # claim C4's story: a use after free


def texts(svg: str) -> list:
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_same_story_gives_the_same_bytes_in_another_process():
    """nbval compares the SVG: nothing in it may depend on the process (hash seeds, ids, the clock)."""
    here = hashlib.sha256(picture.story(C4, READ, INSTALL).svg.encode()).hexdigest()
    code = ("import hashlib; from labkit import Scenario; from labkit.widgets import picture; "
            f"print(hashlib.sha256(picture.story(Scenario(op='zap', scheme='range', refmode='off'), {READ}, {INSTALL})"
            ".svg.encode()).hexdigest())")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert here == there


def test_the_picture_is_well_formed_svg_with_a_text_form():
    shown = picture.story(C4, READ, INSTALL)
    root = ET.fromstring(shown.svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    assert shown._repr_svg_() == shown.svg
    assert repr(shown) == shown.text
    assert "0x" not in shown.text and "zap/range/off/kvm" in shown.text


@pytest.mark.parametrize("scenario,read,install", [(C4, READ, INSTALL), (C4.replace(refmode="pin"), READ, INSTALL),
                                                   (Scenario(op="rmap", scheme="page_seq", refmode="off"), 0, 8),
                                                   (Scenario(op="cow", scheme="range", refmode="off", era="2017"),
                                                    7, 10)])
def test_every_lane_is_named_on_the_picture(scenario, read, install):
    trace = simulate(scenario, interleave(scenario, read, install))
    words = texts(picture.timeline(trace).svg)
    for lane in drawing(trace).lanes:
        assert lane in words, lane


def test_use_after_free_story_shows_the_alarm_the_window_and_the_pte_clear():
    trace = simulate(C4, interleave(C4, READ, INSTALL))
    svg = picture.story(C4, READ, INSTALL).svg
    words = texts(svg)
    assert "USE AFTER FREE" in words
    assert f"broken: use after free at step {trace.first_violation('use_after_free')}" in words
    assert f'fill="{palette.RANGE_WINDOW}" fill-opacity="0.22"' in svg       # the range window
    assert f'fill="{palette.VIOLATION}" fill-opacity="0.35"' in svg          # the broken step's band
    cleared = next(k for k, move in enumerate(trace.moves, start=1) if move.step.kind == PTE_CLEAR)
    assert f'fill="{palette.BLUE}" stroke="#ffffff"><title>step {cleared}: the pte is cleared' in svg
    assert "range_start" in words and "range_end" in words


def test_the_legend_uses_the_live_timelines_words():
    words = texts(picture.story(C4, READ, INSTALL).svg)
    for colour, _, text in palette.LEGEND:
        assert (text in words) == (colour != palette.CURRENT), text    # a picture has no cursor


def test_a_safe_run_says_so_and_raises_no_alarm():
    words = texts(picture.story(C4.replace(refmode="pin"), READ, INSTALL).svg)
    assert "safe: no invariant broken" in words
    assert not any(record.title in words for record in TABLE)


def test_two_alarms_at_neighbouring_steps_do_not_overlap():
    """Read before the zap, install after it: use after free, then stale at the next step, one row each."""
    trace = simulate(C4, interleave(C4, 0, vm_length(C4)))
    assert trace.first_violation("stale") == trace.first_violation("use_after_free") + 1
    svg = picture.timeline(trace).svg
    alarms = [e for e in ET.fromstring(svg).iter(f"{SVG}text") if e.text in ("USE AFTER FREE", "STALE ENTRY")]
    assert len(alarms) == 2
    assert alarms[0].get("y") != alarms[1].get("y")


def test_alarm_rows_never_put_two_overlapping_labels_on_one_row():
    alarms = [(x, "USE AFTER FREE + STALE ENTRY" if x % 3 else "STALE ENTRY") for x in range(1, 30)]
    placed = picture.alarm_rows(alarms, lambda x: 100 + 20 * x, 100, 900)
    for row in {r for r, _, _ in placed}:
        spans = sorted((c - picture.text_width(w, 13) / 2, c + picture.text_width(w, 13) / 2)
                       for r, c, w in placed if r == row)
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), row


@pytest.mark.parametrize("refmode,refcount", [("pin", 2), ("off", 1), ("gup_release", 1)])
def test_two_page_tables_draws_the_models_state_after_one_fault(refmode, refcount):
    model, state = picture.after_one_fault(Scenario(op="zap", scheme="range", refmode=refmode))
    assert state.pages[0].refcount == refcount
    holders = picture.holders(model, state)
    assert holders[0] == "1 from the pte (the process maps it)"
    assert sum(int(line.split()[0]) for line in holders) == refcount      # every reference has a holder
    shown = picture.two_page_tables(refmode=refmode)
    words = texts(shown.svg)
    assert "pte[0] → P" in words
    assert any(w.startswith("spte[0] → P") for w in words)
    assert f"refcount (page->_count) = {refcount}" in words
    assert ("spte (get_page in get_user_pages, kept)" in " ".join(words)) == (refmode == "pin")
    assert f"refcount {refcount}" in shown.text
    assert shown.svg == picture.two_page_tables(refmode=refmode).svg


def test_two_page_tables_names_the_secondary_and_the_schemes_hooks():
    words = " ".join(texts(picture.two_page_tables(refmode="off", secondary="gru").svg))
    assert "secondary MMU: gru" in words and "GRU TLB entry[0] → P (no reference)" in words
    assert "invalidate_range_start" in words


def test_both_figures_sit_on_a_white_card_for_light_and_dark_themes():
    for shown in (picture.story(C4, READ, INSTALL), picture.two_page_tables()):
        first = next(ET.fromstring(shown.svg).iter(f"{SVG}rect"))
        assert first.get("fill") == picture.CARD == "#ffffff"


def test_save_writes_the_svg(tmp_path):
    path = picture.two_page_tables().save(tmp_path / "pages.svg")
    assert path.read_text(encoding="utf-8") == picture.two_page_tables().svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.svg"]          # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "pages.svg"
    path.write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"pages.svg' exists: pass overwrite=True to replace it$"):
        picture.two_page_tables().save(path)
    assert path.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pages.svg"]
    picture.two_page_tables().save(path, overwrite=True)
    assert path.read_text(encoding="utf-8") == picture.two_page_tables().svg


def test_save_never_writes_through_a_symlink(tmp_path):
    target, link = tmp_path / "precious.txt", tmp_path / "pages.svg"
    target.write_text("precious", encoding="utf-8")
    link.symlink_to(target)
    with pytest.raises(FileExistsError):
        picture.two_page_tables().save(link)
    dangling = tmp_path / "dangling.svg"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(FileExistsError):
        picture.two_page_tables().save(dangling)
    assert not (tmp_path / "nowhere.txt").exists()
    picture.two_page_tables().save(link, overwrite=True)          # replaces the link itself
    assert target.read_text(encoding="utf-8") == "precious"
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == picture.two_page_tables().svg


SAVE_UNDER_A_LIMIT = """
import resource, signal, sys
from labkit.widgets import picture
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    picture.story(picture.Scenario(op="zap", scheme="range", refmode="off"), 3, 7).save(sys.argv[1], overwrite=True)
except OSError as error:
    print(error.errno)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE")
def test_a_write_that_fails_halfway_leaves_the_old_file_whole(tmp_path):
    """A full disk or a file-size limit: the old content stays, and no half-written file is left."""
    path = tmp_path / "story.svg"
    path.write_text("the old figure", encoding="utf-8")
    assert len(picture.story(C4, 3, 7).svg) > 4096
    run = subprocess.run([sys.executable, "-c", SAVE_UNDER_A_LIMIT, str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(errno.EFBIG)
    assert path.read_text(encoding="utf-8") == "the old figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story.svg"]


def test_a_long_lane_name_widens_the_margin_instead_of_being_cut():
    xpmem = Scenario(op="rmap", scheme="page", refmode="off", secondary="xpmem")
    root = ET.fromstring(picture.story(xpmem, 0, 0).svg)
    label = next(e for e in root.iter(f"{SVG}text") if e.text == "XPMEM remote mapping[0]")
    assert float(label.get("x")) - picture.text_width(label.text, 12) >= 0
