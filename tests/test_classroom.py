"""The classroom guide (notebooks/README.md): its plans fill their time and name sections the chapters have.

The plans name each chapter's sections as the chapters title them.  When a
chapter is rewritten, this test lists the references to update, by chapter.
"""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GUIDE = (NOTEBOOKS / "README.md").read_text()
PLANS = {"The 90-minute class": 90, "The 50-minute variant": 50}


def plan_rows(title: str) -> list:
    """The table rows of the plan under ``## title``: (start, end, chapter cell, mode, what to do)."""
    section = GUIDE.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        found = re.match(r"\| (\d+)–(\d+) \| (.*?) \| (.*?) \| (.*) \|$", line)
        if found:
            rows.append((int(found[1]), int(found[2]), found[3], found[4], found[5]))
    return rows


def headings(chapter: str) -> list:
    (path,) = NOTEBOOKS.glob(f"{chapter}_*.ipynb")
    cells = nbformat.read(path, as_version=4).cells
    return [line.lstrip("#").strip().replace("`", "").lower()
            for cell in cells if cell.cell_type == "markdown" for line in cell.source.splitlines()
            if line.startswith("#")]


@pytest.mark.parametrize("title", PLANS)
def test_each_class_plan_fills_its_time_without_gaps(title):
    rows = plan_rows(title)
    assert rows, f"notebooks/README.md has no table under '## {title}'"
    assert rows[0][0] == 0 and rows[-1][1] == PLANS[title]
    assert all(earlier[1] == later[0] for earlier, later in zip(rows, rows[1:])), [r[:2] for r in rows]


@pytest.mark.parametrize("title", PLANS)
def test_each_plan_has_predictions_pair_work_the_game_and_an_exit_question(title):
    rows = plan_rows(title)
    modes = " ".join(row[3] for row in rows)
    assert "**predict**" in modes and "**pairs**" in modes
    assert any("Level" in row[2] for row in rows), "the scheduler game (notebook 08's levels)"
    assert "exit question" in rows[-1][2]


@pytest.mark.parametrize("title", PLANS)
def test_every_section_a_plan_names_is_a_heading_of_its_chapter(title):
    stale = []
    for _, _, cell, _, _ in plan_rows(title):
        chapter = re.match(r"`(\d\d)`", cell)
        if chapter is None:
            continue
        titles = headings(chapter[1])
        stale += [f"{chapter[1]}: *{name}*" for name in re.findall(r"\*([^*]+)\*", cell)
                  if not any(name.lower() in heading for heading in titles)]
    assert not stale, ("notebooks/README.md names sections these chapters no longer have; rename them as the "
                       "chapters title them: " + "; ".join(stale))


def test_the_guide_links_the_answer_key_and_the_instructor_s_worksheet():
    for name in ("answer_key_2008.md", "instructor.ipynb"):
        assert f"]({name})" in GUIDE and (NOTEBOOKS / name).is_file(), name
