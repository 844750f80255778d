"""The four package lists agree.

pyproject.toml pins what labkit needs, constraints.txt pins everything 'make
test' installs, environment.yml is the conda version of the whole set, and
binder/environment.yml is what a class gets on Binder.  nbval compares stored
outputs byte for byte, so a different bqplot or pandas on Binder than in the
tests is a bug: every package named in two of these files must have the same
version in both.

Nothing here solves the conda environments (no conda channel is reachable
from CI); it checks that the files say the same thing.
"""

import json
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
import yaml  # PyYAML: pinned in constraints.txt (a dependency of jupyter-events)
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names that differ from the PyPI name (after PEP 503
# normalisation, which already maps jupyterlab_widgets to jupyterlab-widgets).
CONDA_TO_PYPI: dict[str, str] = {}

# Conda packages that are not Python distributions pinned by pip.
NOT_PINNED = {"python", "pip"}

# Test-only tools: in the top-level environment.yml, never on Binder.
TEST_ONLY = {"pytest", "nbval", "nbclient", "hypothesis", "playwright", "jupyter-repo2docker"}
# The JupyterLite build (pyproject's [lite] extra, which make test installs): not on Binder either.
LITE_ONLY = {"jupyterlite-core", "jupyterlite-pyodide-kernel"}


def name(text: str) -> str:
    return canonicalize_name(text)


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(requirements: list[str]) -> dict[str, str]:
    """name -> version for a list of 'name==version' requirements."""
    out = {}
    for line in requirements:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{line!r} is not pinned with =="
        out[name(req.name)] = specs[0].version
    return out


def runtime_pins() -> dict[str, str]:
    return pins(pyproject()["project"]["dependencies"])


def extra_pins() -> dict[str, str]:
    """The extras 'make test' installs: [test] and [lite]."""
    extras = pyproject()["project"]["optional-dependencies"]
    return {**pins(extras["test"]), **pins(extras["lite"])}


def constraints() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"constraints.txt: {line!r} is not pinned with =="
        out[name(req.name)] = spec.version
    return out


CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:(==|=)\s*([^\s=]+)(?:=\S+)?)?\s*$")


class Env:
    """One conda environment file: its channels, conda pins and pip pins."""

    def __init__(self, path: Path):
        self.path = path
        self.rel = path.relative_to(ROOT).as_posix()
        self.data = yaml.safe_load(path.read_text())
        self.channels = self.data.get("channels", [])
        self.conda: dict[str, tuple[str, str | None]] = {}  # name -> (operator, version)
        self.pip: dict[str, str] = {}
        self.pip_other: list[str] = []  # '-e .' and the like
        for dep in self.data["dependencies"]:
            if isinstance(dep, dict):
                assert set(dep) == {"pip"}, f"{self.rel}: unexpected {dep!r}"
                for line in dep["pip"]:
                    if line.startswith("-"):
                        self.pip_other.append(line)
                        continue
                    req = Requirement(line)
                    specs = list(req.specifier)
                    assert len(specs) == 1 and specs[0].operator == "==", (
                        f"{self.rel}: pip entry {line!r} is not pinned with =="
                    )
                    self.pip[name(req.name)] = specs[0].version
                continue
            match = CONDA_SPEC.match(str(dep))
            assert match, f"{self.rel}: cannot read {dep!r}"
            raw, op, version = match.groups()
            key = name(CONDA_TO_PYPI.get(raw, raw))
            assert key not in self.conda, f"{self.rel}: {raw} listed twice"
            self.conda[key] = (op, version)

    def versions(self) -> dict[str, str]:
        """Every pinned Python package: name -> version (conda and pip)."""
        out = {k: v for k, (_, v) in self.conda.items() if k not in NOT_PINNED}
        both = set(out) & set(self.pip)
        assert not both, f"{self.rel}: {sorted(both)} listed for both conda and pip"
        out.update(self.pip)
        return out


@pytest.fixture(scope="module")
def binder_env() -> Env:
    return Env(ROOT / "binder" / "environment.yml")


@pytest.fixture(scope="module")
def top_env() -> Env:
    return Env(ROOT / "environment.yml")


@pytest.fixture(scope="module", params=["environment.yml", "binder/environment.yml"])
def env(request) -> Env:
    return Env(ROOT / request.param)


def test_pyproject_pins_match_constraints():
    lock = constraints()
    for pkg, version in {**runtime_pins(), **extra_pins()}.items():
        assert pkg in lock, f"{pkg} is pinned in pyproject.toml but missing from constraints.txt"
        assert lock[pkg] == version, f"{pkg}: pyproject.toml {version}, constraints.txt {lock[pkg]}"


def test_conda_env_uses_conda_forge_and_python_312(env):
    assert env.channels == ["conda-forge"], f"{env.rel}: channels {env.channels}"
    assert env.conda.get("python") == ("=", "3.12"), f"{env.rel}: python must be pinned as python=3.12"
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert requires.contains(Version("3.12")), f"pyproject.toml's requires-python {requires} excludes 3.12"
    assert "pip" in env.conda, f"{env.rel}: list pip (postBuild and the pip: section use it)"


def test_every_conda_package_is_pinned_exactly(env):
    for pkg, (op, version) in env.conda.items():
        if pkg in NOT_PINNED:
            continue
        assert op == "==" and version, f"{env.rel}: {pkg} must be pinned as {pkg}==VERSION"


def test_every_env_package_matches_constraints(env):
    lock = constraints()
    for pkg, version in env.versions().items():
        assert pkg in lock, (
            f"{env.rel}: {pkg} is not in constraints.txt, so the tests never ran with it "
            "(add it to pyproject.toml and run 'make constraints', or drop it)"
        )
        assert version == lock[pkg], f"{pkg}: {env.rel} {version}, constraints.txt {lock[pkg]}"


def test_binder_env_is_the_runtime_set_plus_voila(binder_env):
    have = binder_env.versions()
    for pkg, version in runtime_pins().items():
        assert have.get(pkg) == version, (
            f"binder/environment.yml: {pkg} {have.get(pkg)}, pyproject.toml pins {version}"
        )
    assert have.get("voila") == extra_pins()["voila"], "binder/environment.yml: voila (presentation mode)"
    extra = (TEST_ONLY | LITE_ONLY) & set(have)
    assert not extra, f"binder/environment.yml: test-only tools {sorted(extra)} do not belong on Binder"
    # labkit itself is installed by binder/postBuild, not resolved by conda or pip.
    assert "labkit" not in have and not binder_env.pip_other


def test_top_level_env_is_the_whole_test_set(top_env):
    have = top_env.versions()
    for pkg, version in {**runtime_pins(), **extra_pins()}.items():
        assert have.get(pkg) == version, f"environment.yml: {pkg} {have.get(pkg)}, pyproject.toml pins {version}"
    assert "-e ." in top_env.pip_other, "environment.yml: install labkit itself (pip: - -e .)"


def test_env_files_agree(binder_env, top_env):
    top, binder = top_env.versions(), binder_env.versions()
    for pkg in set(top) & set(binder):
        assert top[pkg] == binder[pkg], f"{pkg}: environment.yml {top[pkg]}, binder/environment.yml {binder[pkg]}"
    assert top_env.conda["python"] == binder_env.conda["python"]
    # Binder's set is a subset of the conda user's set.
    assert set(binder) <= set(top), f"only on Binder: {sorted(set(binder) - set(top))}"


def test_post_build_installs_labkit_without_resolving():
    path = ROOT / "binder" / "postBuild"
    text = path.read_text()
    assert text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    assert os.stat(path).st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    assert re.search(r"^python -m pip install --no-deps (--no-cache-dir )?\.$", text, re.M)
    assert "binder/overrides.json" in text and "settings/overrides.json" in text


def test_lab_settings_save_widget_state():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
    makefile = (ROOT / "Makefile").read_text()
    assert "binder/overrides.json" in makefile, "make lab must install the same overrides"
    assert "share/jupyter/lab/settings/overrides.json" in makefile


def test_readme_launch_urls_point_at_notebooks():
    readme = (ROOT / "README.md").read_text()
    urls = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+\?urlpath=([^)\s]+)", readme)
    assert any(u.startswith("lab/tree/notebooks/") for u in urls), "README: a Binder badge for JupyterLab"
    assert any(u.startswith("voila/render/notebooks/") for u in urls), "README: a Binder badge for Voila"
    if not list((ROOT / "notebooks").glob("*.ipynb")):
        pytest.skip("no notebooks yet")
    for url in urls:
        target = url.split("/", 2)[2]  # lab/tree/X or voila/render/X -> X
        assert (ROOT / target).is_file(), f"README's Binder link opens {target}, which does not exist"
