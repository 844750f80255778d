"""make lab without the "Jupyter news?" pop-up; make present serves one chapter or all of them."""
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_lab_and_binder_settings_turn_the_news_pop_up_off():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false"          # JupyterLab 4's setting is a string: "true"/"false"/"none"
    assert notification["checkForUpdates"] is False


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
