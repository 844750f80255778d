"""The notebooks are documentation whose outputs are checked: these tests keep nbval honest.

nbval compares only cells that have an execution count, so a notebook saved
without outputs passes while checking nothing (shared/brief/stack.md).  These
tests fail on that, on stored errors, on long cells, and on a notebook that
does not open by saying what it will show.
"""
import time
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
MAX_LINES = 15
BUDGET_SECONDS = 60


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(path):
    return [(i, cell) for i, cell in enumerate(read(path).cells) if cell.cell_type == "code"]


def first_line(cell):
    return (cell.source.splitlines() or [""])[0]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


def test_every_code_cell_was_executed_and_the_notebook_has_stored_outputs(notebook):
    """A cell without an execution count is skipped by nbval: it would check nothing.

    A cell that ran and printed nothing (imports, a definition) keeps its
    execution count and an empty output list, which nbval does compare.
    """
    fix = f"execute it in place: .venv/bin/python notebooks/execute.py notebooks/{notebook.name}"
    cells = code_cells(notebook)
    bare = [f"cell {i} ({first_line(c)!r})" for i, c in cells if c.get("execution_count") is None]
    assert not bare, f"{notebook.name}: never executed (no execution count): {', '.join(bare)}; {fix}"
    assert any(c.get("outputs") for _, c in cells), f"{notebook.name}: no stored outputs at all; {fix}"


def test_no_stored_error_outputs(notebook):
    errors = [f"cell {i} ({first_line(c)!r}): {o.get('ename')}: {o.get('evalue')}"
              for i, c in code_cells(notebook) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{notebook.name}: " + "; ".join(errors)


def test_code_cells_are_short(notebook):
    """Code lives in labkit; a notebook cell only calls it."""
    long = [f"cell {i} ({first_line(c)!r}): {len(c.source.splitlines())} lines" for i, c in code_cells(notebook)
            if len(c.source.splitlines()) > MAX_LINES]
    assert not long, f"{notebook.name}: cells over {MAX_LINES} lines: " + "; ".join(long)


def test_notebooks_use_labkit_through_its_public_face(notebook):
    """``labkit``, ``labkit.kit`` and ``labkit.widgets``: a notebook never reaches into a layer's modules."""
    import re
    public = ("labkit", "labkit.kit", "labkit.widgets")
    used = {m for _, c in code_cells(notebook) for m in re.findall(r"(?:from|import)\s+(labkit[\w.]*)", c.source)}
    inner = sorted(used - set(public))
    assert not inner, f"{notebook.name}: imports {inner}; import from {', '.join(public)} instead"


def test_the_first_cell_says_what_you_will_see(notebook):
    cells = read(notebook).cells
    assert cells and cells[0].cell_type == "markdown", f"{notebook.name}: the first cell must be markdown"
    assert "you will see" in cells[0].source.lower(), (
        f"{notebook.name}: the first cell must say what you will see ('What you will see: ...'), in two sentences")


@pytest.mark.slow
def test_all_notebooks_execute_in_a_fresh_kernel_within_the_budget():
    """Every notebook, top to bottom, each in a fresh kernel; the total must stay under a minute."""
    from nbclient import NotebookClient

    timings = []
    for path in NOTEBOOKS:
        nb = read(path)
        started = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
        timings.append((path.name, time.perf_counter() - started))
    total = sum(seconds for _, seconds in timings)
    for name, seconds in timings:
        print(f"{name}: {seconds:.1f} s")
    print(f"all {len(timings)} notebooks: {total:.1f} s (budget {BUDGET_SECONDS} s)")
    assert total < BUDGET_SECONDS, f"executing the notebooks took {total:.1f} s, over {BUDGET_SECONDS} s"
