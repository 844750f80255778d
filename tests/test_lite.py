"""The JupyterLite site that 'make lite' builds, checked without a browser.

A site is built once per session (tests/conftest.py) by lite/build.py, as
'make lite' runs it: the notebooks, a labkit wheel Pyodide can install, and
the widget extensions taken from the pinned Python packages.
tests/browser/test_lite_browser.py runs it in chromium.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml
from conftest import ROOT, lite_build_module, run_in_lite_venv
from packaging.utils import canonicalize_name, parse_wheel_filename

pytestmark = pytest.mark.lite

NOTEBOOK_DIR = ROOT / "notebooks"
PYODIDE_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"


@pytest.fixture(scope="module")
def build():
    return lite_build_module()


def repository_notebooks() -> list[Path]:
    return sorted(p.relative_to(NOTEBOOK_DIR) for p in NOTEBOOK_DIR.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def site_config(site: Path) -> dict:
    return json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]


def kernel_settings(site: Path) -> dict:
    return site_config(site)["litePluginSettings"][PYODIDE_PLUGIN]


def constraints() -> dict[str, str]:
    return lite_build_module().pins()


# --- the build ------------------------------------------------------------------------------

def test_lite_site_builds_from_a_clean_state(lite_site):
    # The fixture built over an earlier site holding a notebook deleted since: nothing of it is left.
    assert not (lite_site.path / "files" / "removed_since.ipynb").exists()
    assert site_config(lite_site.path)["appName"] == "mmu_notifier lab"
    assert "Pyodide from Pyodide's CDN" in lite_site.stdout


def test_jupyter_lite_check_passes_on_the_site(lite_site):
    assert "'jupyter lite check' passed" in lite_site.stdout
    for check in ("validate:wheels:./pypi/all.json", "validate:settings:jupyter-lite.json",
                  "check:lite:validate:jupyter-lite.json", "check:contents:validate:all.json"):
        assert check in lite_site.stdout, f"jupyter lite check did not run {check}"


def test_lite_site_holds_every_notebook_and_the_labkit_wheel(lite_site):
    site = lite_site.path
    in_site = sorted(p.relative_to(site / "files") for p in (site / "files").rglob("*.ipynb"))
    assert in_site == repository_notebooks()
    contents = json.loads((site / "api" / "contents" / "all.json").read_text())
    listed = {item["name"] for item in contents["content"]}
    assert {p.parts[0] for p in repository_notebooks()} <= listed, "the file browser lists every notebook"

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = site / "pypi" / f"labkit-{version}-py3-none-any.whl"
    assert wheel.exists(), sorted(p.name for p in (site / "pypi").iterdir())
    assert version in json.loads((site / "pypi" / "all.json").read_text())["labkit"]["releases"]
    with zipfile.ZipFile(wheel) as archive:
        packaged = {n for n in archive.namelist() if n.startswith("labkit/") and n.endswith(".py")}
    in_tree = {p.relative_to(ROOT).as_posix() for p in (ROOT / "labkit").rglob("*.py")}
    assert packaged == in_tree, "the wheel holds exactly the working tree's labkit"


def test_site_notebooks_open_on_the_pyodide_kernel_and_install_labkit_first(lite_site, build):
    site = lite_site.path
    # The kernel the site's extension registers: a notebook naming another one gets a "Select Kernel" dialog.
    extension = site / "extensions" / "@jupyterlite" / "pyodide-kernel-extension" / "static"
    registered = " ".join(p.read_text() for p in extension.glob("*.js"))
    assert 'name:"python",display_name:"Python (Pyodide)",language:"python"' in registered
    assert build.KERNELSPEC == {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
    assert site_config(site)["defaultKernelName"] == "python"

    index = json.loads((site / "pypi" / "all.json").read_text())
    for name in build.INSTALLED_BY_FIRST_CELL:
        assert name in index, f"the first cell installs {name}, which the site does not have"
    for path in repository_notebooks():
        nb = nbformat.read(site / "files" / path, as_version=4)
        assert nb.metadata.kernelspec == build.KERNELSPEC, path
        first = nb.cells[0]
        assert first.id == "lite-install" and first.cell_type == "code", path
        assert "await piplite.install(" in first.source and "deps=False" in first.source, path
        assert not re.search(r"https?://", first.source), "the install cell names no server"


def test_site_notebooks_are_otherwise_the_repository_notebooks(lite_site):
    for path in repository_notebooks():
        ours = nbformat.read(NOTEBOOK_DIR / path, as_version=4)
        lite = nbformat.read(lite_site.path / "files" / path, as_version=4)
        assert lite.cells[1:] == ours.cells, path
        assert {k: v for k, v in lite.metadata.items() if k != "kernelspec"} == \
               {k: v for k, v in ours.metadata.items() if k != "kernelspec"}, path


SHIPPED_EXTENSIONS = """
import json, runpy
from importlib import metadata
build = runpy.run_path("lite/build.py")
print(json.dumps({dist: [metadata.version(dist), json.loads((build["extension_dir"](dist, name) / "package.json").read_text())["version"]]
                  for dist, name in build["LAB_EXTENSIONS"].items()}))
"""


def test_widget_extensions_match_the_pinned_python_packages(lite_site, build):
    pinned = constraints()
    config = site_config(lite_site.path)
    assert sorted(e["name"] for e in config["federated_extensions"]) == sorted(build.LAB_EXTENSIONS.values()), \
        "the site has only the extensions the lab needs (nothing else from sys.prefix)"
    shipped = json.loads(run_in_lite_venv(SHIPPED_EXTENSIONS))      # as installed in the build's venv
    for dist, name in build.LAB_EXTENSIONS.items():
        version, extension_version = shipped[dist]
        assert version == pinned[canonicalize_name(dist)], f"{dist} {version} is not the pinned version"
        in_site = json.loads((lite_site.path / "extensions" / name / "package.json").read_text())
        assert in_site["version"] == extension_version, f"{name}: site {in_site['version']}, {dist} ships {extension_version}"
    # The JavaScript halves that the pinned Python packages ship (shared/brief/stack.md).
    assert json.loads((lite_site.path / "extensions" / "bqplot" / "package.json").read_text())["version"] == "0.6.1"


def test_site_wheels_are_the_pinned_pure_python_versions(lite_site, build):
    pinned = constraints()
    wheels = {}
    for path in (lite_site.path / "pypi").glob("*.whl"):
        name, version, _, tags = parse_wheel_filename(path.name)
        assert all(t.abi == "none" and t.platform == "any" for t in tags), f"{path.name} is not pure Python"
        wheels[name] = str(version)
    assert set(wheels) == {canonicalize_name(n) for n in (*build.SITE_WHEELS, "labkit")}
    for name in build.SITE_WHEELS:
        assert wheels[canonicalize_name(name)] == pinned[canonicalize_name(name)], name


def kernel_constant(name: str) -> str:
    return run_in_lite_venv(f"from jupyterlite_pyodide_kernel import constants; print(constants.{name})").strip()


def test_default_site_loads_pyodide_from_its_cdn_and_never_asks_pypi(lite_site):
    PYODIDE_CDN_URL = kernel_constant("PYODIDE_CDN_URL")
    settings = kernel_settings(lite_site.path)
    assert settings["pyodideUrl"] == f"{PYODIDE_CDN_URL}/pyodide.mjs"
    assert settings["disablePyPIFallback"] is True, "an unrelated labkit is on the public index"
    assert not (lite_site.path / "static" / "pyodide").exists()


def test_offline_site_serves_pyodide_and_every_file_its_lock_names(offline_lite_site):
    site = offline_lite_site.path
    assert "'jupyter lite check' passed" in offline_lite_site.stdout
    assert "pyodide:config:jupyter-lite.json" in offline_lite_site.stdout
    settings = kernel_settings(site)
    assert settings["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert settings["disablePyPIFallback"] is True
    pyodide = site / "static" / "pyodide"
    for name in ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"):
        assert (pyodide / name).exists(), name
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    assert {"micropip", "ipython", "jedi"} <= set(lock["packages"])
    assert not {"numpy", "pandas"} & set(lock["packages"]), "the site offers nothing it does not have"
    for name, entry in lock["packages"].items():
        path = pyodide / entry["file_name"]
        assert path.exists(), f"the lock names {entry['file_name']}, missing from the site"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], name


def test_pinned_pyodide_is_the_one_the_kernel_expects(build):
    assert build.PYODIDE_VERSION == kernel_constant("PYODIDE_VERSION")


def test_a_pyodide_core_that_fails_its_integrity_check_is_refused(build, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "CACHE", tmp_path)
    tarball = tmp_path / f"pyodide-{build.PYODIDE_VERSION}.tgz"
    tarball.write_bytes(b"not the npm registry's tarball")
    with pytest.raises(SystemExit, match="integrity .* is not the pinned"):
        build.pyodide_core(fetch=False)
    assert not tarball.exists(), "a tarball that fails its check is deleted"


# --- bad input ------------------------------------------------------------------------------

def test_bad_notebooks_get_a_clear_error(build, tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    with pytest.raises(SystemExit, match="broken.ipynb is not a valid notebook"):
        build.lite_notebook(broken, tmp_path / "out" / "broken.ipynb")

    r_notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}})
    nbformat.write(r_notebook, tmp_path / "r.ipynb")
    with pytest.raises(SystemExit, match="r.ipynb is a R notebook; the site's only kernel .* runs Python"):
        build.lite_notebook(tmp_path / "r.ipynb", tmp_path / "out" / "r.ipynb")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit, match="no notebooks in"):
        build.notebooks(empty)


def test_build_refuses_to_delete_a_folder_that_is_not_a_site(build, tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit, match="is not a JupyterLite site: not deleting it"):
        build.remove_old_site(tmp_path)
    assert (tmp_path / "thesis.tex").exists()


# --- labkit in Pyodide ----------------------------------------------------------------------

CORE_IMPORTS = r"""
import importlib, pkgutil, sys
before = set(sys.modules)

class OnlyTheStandardLibrary:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top != "labkit" and top not in sys.stdlib_module_names:
            raise ImportError(f"labkit's core imported {name}")

sys.meta_path.insert(0, OnlyTheStandardLibrary())
import labkit
for module in pkgutil.walk_packages(labkit.__path__, "labkit."):
    if not module.name.startswith("labkit.widgets") and module.name != "labkit.__main__":
        importlib.import_module(module.name)
trace = labkit.simulate(labkit.Scenario(op="zap", scheme="range", refmode="off"), "in_order")
labkit.narrate.status(trace, len(trace.moves))
labkit.explore(labkit.Scenario(op="zap", scheme="range", refmode="pin")).summary()
print(sorted({m.partition(".")[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)))
"""


def test_labkit_core_imports_only_the_standard_library():
    """Pyodide has no pandas, numpy, bqplot or ipywidgets until they are installed: the model must not need them.

    Every module outside labkit.widgets is imported, and simulate, status and
    explore run, with anything but the standard library refused.
    """
    proc = subprocess.run([sys.executable, "-c", CORE_IMPORTS], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['labkit']"


# --- publishing -----------------------------------------------------------------------------

def test_pages_workflow_publishes_what_make_lite_builds():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    jobs = workflow["jobs"]
    steps = [step for job in jobs.values() for step in job.get("steps", [])]
    assert any(step.get("run", "").strip() == "make lite" for step in steps)
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site"
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in steps)
    deploy = next(job for job in jobs.values() if any(
        s.get("uses", "").startswith("actions/deploy-pages@") for s in job.get("steps", [])))
    permissions = {**workflow.get("permissions", {}), **deploy.get("permissions", {})}
    assert permissions.get("pages") == "write" and permissions.get("id-token") == "write"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lite:.*\n\t\$\(LITE_PY\) lite/build\.py --output site$", makefile, re.M)


def test_readme_nbgitpuller_link_opens_a_notebook_of_this_repository():
    """nbgitpuller's format (its docs, topic/url-options): /hub/user-redirect/git-pull?repo=&urlpath=&branch=."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://[^\s)`\"']+/hub/user-redirect/git-pull\?[^\s)`\"']+", readme)
    assert links, "README: an nbgitpuller link for a JupyterHub"
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert set(query) >= {"repo", "urlpath", "branch"}, link
        repo_name = urlsplit(query["repo"][0]).path.rstrip("/").split("/")[-1].removesuffix(".git")
        urlpath = query["urlpath"][0]
        assert urlpath.startswith(f"lab/tree/{repo_name}/"), "urlpath starts with the folder nbgitpuller clones into"
        assert (ROOT / urlpath.removeprefix(f"lab/tree/{repo_name}/")).is_file(), urlpath
