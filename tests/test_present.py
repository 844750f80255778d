"""make lab trusts the notebooks, without the "Jupyter news?" pop-up; make present serves one chapter or all of them,
with a class's settings."""
import json
import re
import subprocess
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parent.parent


def test_lab_and_binder_settings_turn_the_news_pop_up_off():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false"          # JupyterLab 4's setting is a string: "true"/"false"/"none"
    assert notification["checkForUpdates"] is False


def test_lab_and_binder_trust_the_shipped_notebooks():
    """tests/browser/test_fresh_clone_browser.py shows what trust changes: figures instead of their text."""
    lab = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "jupyter trust notebooks/*.ipynb" in lab
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert re.search(r"^jupyter trust notebooks/\*\.ipynb", post_build, re.M)


def present(*args) -> str:
    done = subprocess.run(["make", "-n", "present", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout


def test_present_serves_lab_by_default():
    assert "voila notebooks/lab.ipynb --no-browser" in present()


def test_present_serves_one_chapter():
    out = present("NOTEBOOK=notebooks/03_range_and_refcount.ipynb")
    assert "voila notebooks/03_range_and_refcount.ipynb --no-browser" in out


def test_present_serves_the_folder_so_every_chapter_is_listed():
    out = present("NOTEBOOK=notebooks")
    assert "test -f notebooks || test -d notebooks" in out
    assert ".venv/bin/voila notebooks --no-browser" in out


def test_present_passes_the_class_settings_file():
    assert f"--Voila.config_file_paths={ROOT / 'present'}" in present()


def test_present_settings_end_the_kernels_of_closed_pages_and_keep_open_ones():
    """tests/browser/test_present_browser.py watches these settings work; here, what they say."""
    config = PyFileConfigLoader("voila.py", path=str(ROOT / "present")).load_config()
    kernels = config.MappingKernelManager
    assert kernels.cull_idle_timeout > 0 and 0 < kernels.cull_interval <= kernels.cull_idle_timeout
    assert kernels.cull_connected is False and kernels.cull_busy is False      # an open page keeps its kernel
    assert callable(config.VoilaConfiguration.prelaunch_hook)                  # sets the cookie the beacon needs
    assert config.VoilaConfiguration.strip_sources is True and config.VoilaConfiguration.show_tracebacks is False
