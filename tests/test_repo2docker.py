"""What Binder would build from this repository.

`repo2docker --no-build --debug .` prints the Dockerfile mybinder would build,
without Docker.  Binder ignores a top-level pyproject.toml/environment.yml once
a binder/ folder exists, and an environment.yml stops repo2docker from
installing the repository itself; this checks the build really creates the
conda environment from binder/environment.yml (Python 3.12) and then runs
binder/postBuild, which installs labkit.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def repo2docker() -> str:
    here = Path(sys.executable).parent / "repo2docker"
    found = str(here) if here.exists() else shutil.which("repo2docker")
    if found is None:
        pytest.fail("repo2docker is missing: it is in pyproject.toml's [test] extra (jupyter-repo2docker)")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, str]:
    """(Dockerfile, log) for the repository as it is in the working tree."""
    cwd = tmp_path_factory.mktemp("r2d")  # repo2docker looks for its own config in the cwd
    proc = subprocess.run(
        [repo2docker(), "--no-build", "--debug", str(ROOT)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"repo2docker failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, proc.stderr


def test_uses_conda_buildpack_with_python_312(rendered):
    _, log = rendered
    assert "Building conda environment for python=3.12" in log, log


def test_environment_comes_from_binder_environment_yml(rendered):
    dockerfile, _ = rendered
    assert "src/binder/environment.yml ${REPO_DIR}/binder/environment.yml" in dockerfile
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"' in dockerfile
    # Not the top-level files: binder/ replaces them.
    assert '--file "environment.yml"' not in dockerfile
    assert "requirements.txt" not in dockerfile


def test_post_build_runs_after_the_environment(rendered):
    dockerfile, _ = rendered
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert "RUN ./binder/postBuild" in lines, dockerfile
    env_update = next(i for i, line in enumerate(lines) if '--file "binder/environment.yml"' in line)
    copy_repo = next(
        i for i, line in enumerate(lines) if line.startswith("COPY --chown=") and line.endswith("src/ ${REPO_DIR}/")
    )
    post_build = lines.index("RUN ./binder/postBuild")
    # environment first, then the whole repository, then postBuild (which needs both)
    assert env_update < copy_repo < post_build


def test_repo2docker_itself_installs_nothing_from_the_repo(rendered):
    """Only postBuild installs labkit; repo2docker adds no pip install of its own."""
    dockerfile, _ = rendered
    assert "pip install" not in dockerfile, "repo2docker would install the repository itself"


def test_post_build_runs_as_the_notebook_user_so_the_notebooks_are_trusted_in_its_home(rendered):
    """postBuild's jupyter trust writes the signatures to $HOME, which must be the user's home in the image."""
    dockerfile, _ = rendered
    lines = [line.strip() for line in dockerfile.splitlines()]
    post_build = lines.index("RUN ./binder/postBuild")
    users = [line for line in lines[:post_build] if line.startswith("USER ")]
    assert users[-1] == "USER ${NB_USER}", users
    assert "HOME=/home/${NB_USER}" in dockerfile
