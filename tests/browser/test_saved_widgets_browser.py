"""A notebook executed by notebooks/execute.py shows its saved widgets in JupyterLab before anything runs.

The tool renumbers every widget model id; the outputs' views and the widget
state saved in the notebook must still name the same models, or JupyterLab
shows "Error displaying widget" where the figure was.  (JupyterLab renders
widget views only in a trusted notebook: the server's own data folder is told
to trust this one, as ``jupyter trust`` does for a student's copy.)
"""
from __future__ import annotations

import importlib.util
import os
import subprocess

import nbformat
import pytest

from .conftest import open_page, real_errors
from .servers import BIN, ROOT, Server, accept_dialogs

pytestmark = pytest.mark.browser

CELLS = [
    "import ipywidgets as widgets\nfrom labkit import Scenario\nfrom labkit.widgets import Lab",
    "slider = widgets.IntSlider(7, description='saved slider')\n"
    "note = widgets.HTML('<b class=\"saved-note\">saved state</b>')\n"
    "links = [widgets.link((slider, 'value'), (slider, 'max'))]\nwidgets.VBox([slider, note])",
    "Lab(Scenario(op='cow2', scheme='end_only', refmode='off', secondary='iommu', era='2017'), 0, 20)",
]


@pytest.fixture(scope="module")
def saved_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "saved.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "notebooks" / "execute.py")
    execute = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(execute)
    assert execute.main([str(path)]) == 0
    server = Server("lab", {"saved.ipynb": path})
    subprocess.run([str(BIN / "jupyter"), "trust", str(server.root / "saved.ipynb")], check=True,
                   capture_output=True, env=dict(os.environ, JUPYTER_DATA_DIR=str(server.tmp / "data")))
    yield server
    server.stop()


def test_saved_widgets_render_from_the_renumbered_state(browser, saved_server):
    page = open_page(browser)
    try:
        page.goto(saved_server.url("lab/tree/saved.ipynb?reset"))
        page.wait_for_selector(".jp-Notebook", timeout=90_000)
        accept_dialogs(page)
        page.wait_for_selector(".saved-note", timeout=60_000)
        page.wait_for_selector(".widget-slider", timeout=30_000)
        page.wait_for_selector(".labkit-timeline svg.svg-figure", state="attached", timeout=60_000)
        text = page.inner_text(".jp-Notebook")
        assert "Error displaying widget" not in text and "model not found" not in text.lower()
        assert "saved slider" in text
        assert not real_errors(page), real_errors(page)
    finally:
        page.close()
