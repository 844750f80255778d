"""JupyterLite sites, built once per test session by lite/build.py (the command 'make lite' runs).

The build runs in its own venv, .venv-lite (LABKIT_LITE_PYTHON names its
Python; 'make test' creates it): jupyterlite-pyodide-kernel installs a lab
extension that JupyterLab in .venv would load and fail on.
``lite_site`` is the default build, which loads Pyodide from its CDN as a
published site does; ``offline_lite_site`` is the self-contained build, with
Pyodide's core from the pyodide npm package.  The offline build needs that
package (fetched with npm into lite/cache/): without npm or a cached copy it
is skipped on a developer's machine, never in CI (.ci/run installs npm).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "lite" / "build.py"
LITE_PYTHON = ROOT / os.environ.get("LABKIT_LITE_PYTHON", ".venv-lite/bin/python")


def lite_python() -> Path:
    """The Python of .venv-lite; skipped without it on a developer's machine, a failure in CI."""
    if not LITE_PYTHON.exists():
        message = f"{LITE_PYTHON} is missing: 'make test' creates it ('make .venv-lite/.installed')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return LITE_PYTHON


def run_in_lite_venv(code: str) -> str:
    """What ``code`` prints when run by .venv-lite's Python (where jupyterlite is installed)."""
    proc = subprocess.run([str(lite_python()), "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def lite_build_module():
    """lite/build.py as a module (it is a script, not part of labkit)."""
    spec = importlib.util.spec_from_file_location("lite_build", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class BuiltSite:
    path: Path
    seconds: float
    stdout: str


def build_site(output: Path, *options: str) -> BuiltSite:
    started = time.monotonic()
    proc = subprocess.run([str(lite_python()), str(BUILD_SCRIPT), "--output", str(output), *options],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"lite/build.py {' '.join(options)} failed:\n{proc.stdout}\n{proc.stderr}"
    return BuiltSite(output, time.monotonic() - started, proc.stdout)


def offline_core_or_skip() -> None:
    """Skip (outside CI) when the offline build cannot get Pyodide's core."""
    build = lite_build_module()
    cached = build.CACHE / f"pyodide-{build.PYODIDE_VERSION}.tgz"
    if not cached.exists() and shutil.which("npm") is None and not os.environ.get("CI"):
        pytest.skip(f"the offline site needs Pyodide's core: npm is not installed and {cached.relative_to(ROOT)} "
                    "is missing (install npm, or run 'make pyodide-core' where npm is; .ci/run installs npm)")


@pytest.fixture(scope="session")
def lite_site(tmp_path_factory) -> BuiltSite:
    """The default site, built over a stale earlier build to show that a build starts clean."""
    output = tmp_path_factory.mktemp("lite") / "site"
    (output / "files").mkdir(parents=True)
    (output / "jupyter-lite.json").write_text("{}")                    # what an earlier build leaves
    (output / "files" / "removed_since.ipynb").write_text("{}")       # a notebook deleted since
    return build_site(output)


@pytest.fixture(scope="session")
def offline_lite_site(tmp_path_factory) -> BuiltSite:
    offline_core_or_skip()
    return build_site(tmp_path_factory.mktemp("lite-offline") / "site", "--offline")
