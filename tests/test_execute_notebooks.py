"""Re-executing a notebook that did not change rewrites nothing (notebooks/execute.py, what make notebooks runs).

Widget model ids are random and a print's output arrives in chunks that fall
differently each time: stored as they come, every run would rewrite every
notebook.  The tool gives the ids in a fixed order, merges the chunks and
records no times; JupyterLab still finds every saved widget (the views and
the saved state name the same ids).
"""
import importlib.util
import json
import re
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def tool():
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "notebooks" / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ids(notebook) -> tuple:
    """(ids the outputs display, ids of the saved state, ids the saved state refers to)."""
    shown = [output["data"][VIEW]["model_id"] for cell in notebook.cells for output in cell.get("outputs", [])
             if VIEW in output.get("data", {})]
    state = notebook.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    referred = set(re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(state)))
    return shown, set(state), referred


def fake_run(seed: int):
    """What a kernel run stores: random ids for a slider, its layout and a link, and a print in chunks."""
    slider, layout, link = (uuid.UUID(int=seed * 1000 + n).hex for n in (1, 2, 3))
    state = {
        link: {"model_name": "LinkModel", "state": {"source": [f"IPY_MODEL_{slider}", "value"],
                                                    "target": [f"IPY_MODEL_{slider}", "max"]}},
        layout: {"model_name": "LayoutModel", "state": {"width": "420px"}},
        slider: {"model_name": "IntSliderModel", "state": {"layout": f"IPY_MODEL_{layout}", "value": 3}},
    }
    chunks = ["step 1\n", "step 2\nstep 3\n"] if seed % 2 else ["step 1\nstep 2\n", "step 3\n"]
    cell = nbformat.v4.new_code_cell("show()", execution_count=1, outputs=[
        *(nbformat.v4.new_output("stream", name="stdout", text=chunk) for chunk in chunks),
        nbformat.v4.new_output("display_data", data={VIEW: {"model_id": slider, "version_major": 2,
                                                            "version_minor": 0},
                                                     "text/plain": f"IntSlider(value=3) {slider}"})])
    cell.id = "the-cell"                      # a stored notebook keeps its cell ids
    cell.metadata["execution"] = {"iopub.execute_input": f"2026-01-0{seed % 9 + 1}T00:00:00Z"}
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    return notebook


def test_two_runs_that_differ_only_in_ids_chunks_and_times_are_stored_the_same():
    execute = tool()
    first, second = (nbformat.writes(execute.normalised(fake_run(seed), "chapter")) for seed in (1, 2))
    assert first == second
    notebook = nbformat.reads(first, as_version=4)
    shown, saved, referred = ids(notebook)
    assert set(shown) <= saved and referred <= saved              # every view and reference has its model
    assert notebook.cells[0].outputs[0]["text"] == "step 1\nstep 2\nstep 3\n"
    assert "execution" not in notebook.cells[0].metadata
    assert notebook.cells[0].outputs[1]["data"]["text/plain"] == f"IntSlider(value=3) {shown[0]}"


def test_ids_are_32_hex_digits_and_differ_between_notebooks():
    execute = tool()
    one, other = (execute.normalised(fake_run(1), name) for name in ("01_a", "02_b"))
    assert all(re.fullmatch(r"[0-9a-f]{32}", model) for model in ids(one)[1])
    assert not ids(one)[1] & ids(other)[1]


def test_normalising_twice_changes_nothing():
    execute = tool()
    once = execute.normalised(fake_run(3), "chapter")
    assert nbformat.writes(execute.normalised(once, "chapter")) == nbformat.writes(once)


def test_a_stream_between_displays_keeps_its_place():
    execute = tool()
    stream = lambda text: nbformat.v4.new_output("stream", name="stdout", text=text)   # noqa: E731
    shown = nbformat.v4.new_output("display_data", data={"text/plain": "x"})
    merged = execute.merged_streams([stream("a"), stream("b"), shown, stream("c")])
    assert [o.get("text", "display") for o in merged] == ["ab", "display", "c"]


CELLS = [
    "import ipywidgets as widgets\nslider = widgets.IntSlider(3)\nlabel = widgets.Label('x')\n"
    "links = [widgets.link((slider, 'value'), (slider, 'max'))]\nwidgets.VBox([slider, label])",
    "import sys\nfor k in range(40):\n    print('line', k, flush=True)\n    sys.stdout.write('')",
]


@pytest.mark.slow
def test_re_executing_a_notebook_with_widgets_and_prints_rewrites_nothing(tmp_path):
    path = tmp_path / "widgets.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    execute = tool()
    assert execute.main([str(path)]) == 0
    first = path.read_text()
    stamp = path.stat().st_mtime_ns
    assert execute.main([str(path)]) == 0
    assert path.read_text() == first and path.stat().st_mtime_ns == stamp       # not even rewritten
    shown, saved, referred = ids(nbformat.read(path, as_version=4))
    assert shown and set(shown) <= saved and referred <= saved
    assert execute.main(["--check", str(path)]) == 0
