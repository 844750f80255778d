#!/usr/bin/env python3
"""Build the lab as a JupyterLite site: JupyterLab and a Python kernel (Pyodide) as static files.

    make lite               # .venv-lite/bin/python lite/build.py: site/, Pyodide from its CDN as a published site
    make lite-offline       # ... --offline: self-contained, nothing is fetched from anywhere but the site
    make pyodide-core       # ... --fetch-pyodide-core: only fetch and verify the pyodide npm package

It runs in a venv of its own (.venv-lite, the [lite] extra): jupyterlite-pyodide-kernel
installs a lab extension that works only in JupyterLite, and JupyterLab would load it.

Why a script rather than a bare ``jupyter lite build``:

* **The repository's notebooks stay as they are.**  Their copies in the site
  get the Pyodide kernelspec (``python3`` would bring up a "Select Kernel"
  dialog) and a first cell that installs labkit with piplite from the site's
  own wheels.  The change is generic: any notebook under ``notebooks/``,
  including ones added later, gets the same two edits and nothing else.
* **labkit is installed with ``deps=False``.**  Its wheel pins ``jupyterlab``,
  ``ipykernel`` and ``pandas`` exactly, which Pyodide cannot satisfy, so the
  first cell names the pure wheels it needs instead (all on the site, at the
  versions constraints.txt pins).  PyPI is never asked (``disablePyPIFallback``):
  an unrelated ``labkit`` exists on the public index.
* **Versions match.**  The bqplot, bqscales and ipywidgets lab extensions are
  copied from the installed, pinned Python packages (nothing else from
  ``sys.prefix``), and the wheels are downloaded at the same pins, so the
  JavaScript and Python halves of each widget library agree.
* **Every build is clean.**  The JupyterLite input folder is a temporary copy
  and the output folder is removed first: an incremental ``jupyter lite
  build`` can silently drop a configured Pyodide URL.
* **--offline** adds Pyodide's core from the ``pyodide`` npm package (fetched
  with ``npm pack``, its integrity checked against the pin below) and the pure
  wheels the kernel loads from Pyodide's distribution when it starts, so the
  site runs with no request leaving it.  numpy and pandas for Pyodide exist
  only in Pyodide's own distribution (its CDN), so an offline site runs the
  model and ipywidgets but not the bqplot figures or pandas tables.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

import nbformat
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "lite"
#: Downloads kept between builds (ignored by git): the pyodide npm tarball and wheels.
CACHE = LITE / "cache"
DEFAULT_OUTPUT = ROOT / "site"

#: The Pyodide that jupyterlite-pyodide-kernel 0.8.6 is built for
#: (jupyterlite_pyodide_kernel.constants.PYODIDE_VERSION), and the npm
#: registry's integrity for its tarball (``npm view pyodide@314.0.6 dist.integrity``).
PYODIDE_VERSION = "314.0.6"
PYODIDE_NPM_INTEGRITY = "sha512-BKDTJyIqFxC4BExLqeRS3f5xvXZIjOt8C3zGLN/Cc7tFxSwvKVhVkchQQ2AGLOtR4YrVOIFxbV8poyDOOmWwxQ=="
#: Pyodide runs this Python; wheels for the site are chosen for it.
PYODIDE_PYTHON = "3.14"

#: The Pyodide kernel's name and display name, as jupyterlite-pyodide-kernel registers it.
KERNELSPEC = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}

#: Pure-Python wheels the site serves, at the versions constraints.txt pins.  comm is
#: installed by the kernel itself when it starts; the first cell installs the others.
SITE_WHEELS = ("ipywidgets", "bqplot", "bqscales", "traittypes", "comm")
INSTALLED_BY_FIRST_CELL = ("labkit", "ipywidgets", "bqplot", "bqscales", "traittypes")
#: Compiled packages that only Pyodide's distribution has: tables and figures need them.
FROM_PYODIDE = ("numpy", "pandas")

#: Lab extensions the site needs, by the Python distribution that ships each one.
LAB_EXTENSIONS = {
    "jupyterlab-widgets": "@jupyter-widgets/jupyterlab-manager",
    "bqplot": "bqplot",
    "bqscales": "bqscales",
    "jupyterlite-pyodide-kernel": "@jupyterlite/pyodide-kernel-extension",
}

#: What the Pyodide kernel loads from Pyodide's distribution when it starts
#: (jupyterlite-pyodide-kernel 0.8.6's worker: loadPackage("micropip"), then
#: piplite.install of jedi and ipython; ipykernel, pyodide-kernel and comm come
#: from piplite indexes).  An offline site ships these and their dependencies.
KERNEL_START = ("micropip", "ipython", "jedi")

INSTALL_CELL_ID = "lite-install"
INSTALL_CELL_TAG = "lite-install"


class BuildError(SystemExit):
    """A problem the person running the build can fix; the message says how."""

    def __init__(self, message: str):
        super().__init__(f"lite/build.py: {message}")


# --- versions -------------------------------------------------------------------------------

def pins(constraints: Path = ROOT / "constraints.txt") -> dict[str, str]:
    """constraints.txt as {canonical name: version}."""
    out = {}
    for line in constraints.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[canonicalize_name(name)] = version.strip()
    return out


def check_environment(pinned: dict[str, str]) -> None:
    """Fail early, with the fix, when the build would mix versions."""
    from jupyterlite_pyodide_kernel import constants

    if constants.PYODIDE_VERSION != PYODIDE_VERSION:
        raise BuildError(
            f"jupyterlite-pyodide-kernel expects Pyodide {constants.PYODIDE_VERSION}, lite/build.py pins "
            f"{PYODIDE_VERSION}: update PYODIDE_VERSION and PYODIDE_NPM_INTEGRITY together")
    for dist in [*LAB_EXTENSIONS, "jupyterlite-core", *SITE_WHEELS]:
        want = pinned.get(canonicalize_name(dist))
        if want is None:
            raise BuildError(f"{dist} is not pinned in constraints.txt (run 'make constraints')")
        if dist in SITE_WHEELS:
            continue                       # downloaded for Pyodide; need not be installed here
        try:
            have = metadata.version(dist)
        except metadata.PackageNotFoundError:
            raise BuildError(f"{dist} is not installed: run 'make lite', which installs the [lite] extra") from None
        if have != want:
            raise BuildError(f"{dist} {have} is installed but constraints.txt pins {want}: "
                             "build from the project's .venv ('make lite')")


def extension_dir(dist: str, name: str) -> Path:
    """The folder of lab extension ``name`` as installed by Python distribution ``dist``."""
    suffix = f"share/jupyter/labextensions/{name}/package.json"
    for file in metadata.distribution(dist).files or []:
        if file.as_posix().endswith(suffix):
            path = Path(file.locate()).resolve()
            if json.loads(path.read_text())["name"] != name:
                raise BuildError(f"{path} is not the {name} extension")
            return path.parent
    raise BuildError(f"{dist} does not ship the {name} lab extension")


# --- downloads ------------------------------------------------------------------------------

def pip(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True)
    if proc.returncode:
        raise BuildError(f"pip {' '.join(args)} failed:\n{proc.stderr[-3000:]}")


def cached_wheel(name: str, version: str) -> Path | None:
    for path in (CACHE / "wheels").glob("*.whl"):
        wheel_name, wheel_version, _, _ = parse_wheel_filename(path.name)
        if wheel_name == canonicalize_name(name) and str(wheel_version) == version:
            return path
    return None


def pure_wheels(specs: dict[str, str]) -> list[Path]:
    """Pure-Python wheels for Pyodide's Python, ``{name: version}``, from the cache or PyPI.

    pip checks each download against the hash PyPI lists for the file.
    """
    missing = {n: v for n, v in specs.items() if cached_wheel(n, v) is None}
    if missing:
        (CACHE / "wheels").mkdir(parents=True, exist_ok=True)
        pip("download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", PYODIDE_PYTHON,
            "--dest", str(CACHE / "wheels"), *(f"{n}=={v}" for n, v in sorted(missing.items())))
    wheels = []
    for name, version in specs.items():
        wheel = cached_wheel(name, version)
        if wheel is None:
            raise BuildError(f"pip downloaded no wheel for {name}=={version}")
        tags = parse_wheel_filename(wheel.name)[3]
        if not all(tag.abi == "none" and tag.platform == "any" for tag in tags):
            raise BuildError(f"{wheel.name} is not a pure-Python wheel: Pyodide cannot install it")
        wheels.append(wheel)
    return wheels


def labkit_wheel(dest: Path) -> Path:
    """Build labkit's wheel from the working tree, in a clean copy.

    setuptools builds in ./build and keeps files there between builds, so a module
    deleted from labkit/ could survive into the wheel; a fresh copy cannot.
    """
    with tempfile.TemporaryDirectory(prefix="labkit-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, src / name)
        shutil.copytree(ROOT / "labkit", src / "labkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(src))
    (wheel,) = dest.glob("labkit-*.whl")
    return wheel


def integrity(path: Path) -> str:
    """The npm registry's ``dist.integrity`` for a tarball: sha512, base64."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def pyodide_core(fetch: bool = True) -> Path:
    """The ``pyodide`` npm tarball at PYODIDE_VERSION, fetched with ``npm pack`` and verified.

    Returns the cached tarball; raises BuildError if it cannot be had or does not
    match the pinned integrity (a mismatched download is deleted).
    """
    tarball = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tarball.exists():
        if not fetch:
            raise BuildError(f"{tarball.relative_to(ROOT)} is missing: run 'make pyodide-core' (needs npm)")
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("an offline build needs Pyodide's core from the npm registry, and npm is not "
                             "installed (Debian: apt-get install npm)")
        CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([npm, "pack", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", str(CACHE),
                               "--json", "--silent"], capture_output=True, text=True)
        if proc.returncode or not tarball.exists():
            raise BuildError(f"npm pack pyodide@{PYODIDE_VERSION} failed:\n{proc.stderr[-3000:]}")
    got = integrity(tarball)
    if got != PYODIDE_NPM_INTEGRITY:
        tarball.unlink()
        raise BuildError(f"{tarball.name}: integrity {got} is not the pinned {PYODIDE_NPM_INTEGRITY}; "
                         "the download was deleted")
    return tarball


def local_pyodide(dest: Path) -> list[str]:
    """Unpack Pyodide's core into ``dest`` with the wheels the kernel loads at start.

    The npm package holds only the core (pyodide.mjs, pyodide.asm.wasm,
    python_stdlib.zip, pyodide-lock.json).  micropip, ipython, jedi and their
    dependencies are pure wheels, downloaded from PyPI at the versions
    Pyodide's lock file names.  Pyodide checks each file against the lock's
    sha256, and Pyodide repacks the wheels it distributes, so the lock is
    rewritten with the hashes of the wheels shipped here, and lists nothing
    else: a package the site does not have is not offered.  Returns the
    package names the site's lock file lists.
    """
    with tarfile.open(pyodide_core()) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.startswith("package/")]
        for member in members:
            member.name = member.name[len("package/"):]
        archive.extractall(dest, members=members, filter="data")
    lock_path = dest / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    packages = lock["packages"]
    needed, todo = set(), list(KERNEL_START)
    while todo:
        name = canonicalize_name(todo.pop())
        if name not in needed:
            needed.add(name)
            todo.extend(packages[name]["depends"])
    for wheel in pure_wheels({name: packages[name]["version"] for name in needed}):
        entry = packages[canonicalize_name(parse_wheel_filename(wheel.name)[0])]
        if entry["file_name"] != wheel.name:
            raise BuildError(f"Pyodide's lock names {entry['file_name']}, PyPI gave {wheel.name}")
        shutil.copy(wheel, dest / wheel.name)
        entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock["packages"] = {name: entry for name, entry in packages.items() if name in needed}
    lock_path.write_text(json.dumps(lock, indent=1) + "\n")
    return sorted(needed)


# --- notebooks ------------------------------------------------------------------------------

def install_cell_source() -> str:
    """The first cell of every notebook in the site: labkit from the site, numpy and pandas from Pyodide."""
    return "\n".join([
        "# JupyterLite only: lite/build.py adds this cell to the site's copy of the notebook.",
        "# labkit and the widget libraries come from this site's own wheels (no other server);",
        "# numpy and pandas, for tables and figures, are Pyodide's builds from Pyodide's distribution.",
        "import importlib.metadata",
        "import piplite",
        f"await piplite.install({list(INSTALLED_BY_FIRST_CELL)!r}, deps=False)",
        "try:",
        f"    await piplite.install({list(FROM_PYODIDE)!r})",
        "except Exception as error:",
        "    print(f\"Tables and figures are unavailable: numpy and pandas could not be loaded ({error}).\")",
        "print(f\"labkit {importlib.metadata.version('labkit')} is installed; the model runs in this browser tab.\")",
    ])


def lite_notebook(source: Path, dest: Path) -> None:
    """Write the site's copy of ``source``: the Pyodide kernelspec and the install cell first.

    Everything else (cells, outputs, widget state) is copied unchanged.
    """
    try:
        nb = nbformat.read(source, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds; say which file
        raise BuildError(f"{source} is not a valid notebook: {error}") from None
    language = (nb.metadata.get("kernelspec", {}).get("language")
                or nb.metadata.get("language_info", {}).get("name") or "python")
    if language.lower() != "python":
        raise BuildError(f"{source} is a {language} notebook; the site's only kernel (Pyodide) runs Python")
    if any(cell.get("id") == INSTALL_CELL_ID for cell in nb.cells):
        raise BuildError(f"{source} already has a cell with id {INSTALL_CELL_ID!r}")
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    cell = nbformat.v4.new_code_cell(install_cell_source(), id=INSTALL_CELL_ID)
    cell.metadata["tags"] = [INSTALL_CELL_TAG]
    nb.cells.insert(0, cell)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def notebooks(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not found:
        raise BuildError(f"no notebooks in {folder}")
    return found


# --- the build ------------------------------------------------------------------------------

def jupyter_lite(command: str, lite_dir: Path, output: Path, config_dir: Path) -> str:
    """Run ``jupyter lite COMMAND`` on the staging folder; returns what it printed.

    ``check`` runs the build's tasks again before its own, so it must see the
    same folder and configuration as ``build`` (run on its own it rebuilds the
    site from sys.prefix).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERLITE_")}
    env["JUPYTER_CONFIG_DIR"] = str(config_dir)      # no personal jupyter_lite_config.json
    proc = subprocess.run([sys.executable, "-m", "jupyterlite_core", command,
                           "--lite-dir", str(lite_dir), "--output-dir", str(output)],
                          cwd=lite_dir, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise BuildError(f"jupyter lite {command} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def remove_old_site(output: Path) -> None:
    """Remove a previous build, refusing to delete a folder that is not one."""
    if not output.exists():
        return
    if not output.is_dir():
        raise BuildError(f"{output} is a file, not a folder to build the site in")
    if output.resolve() in (ROOT, ROOT.parent, Path.home()) or (
            any(output.iterdir()) and not (output / "jupyter-lite.json").exists()):
        raise BuildError(f"{output} exists and is not a JupyterLite site: not deleting it")
    shutil.rmtree(output)


def build(output: Path = DEFAULT_OUTPUT, offline: bool = False, check: bool = True,
          notebook_dir: Path = ROOT / "notebooks") -> dict:
    """Build the site into ``output`` from a clean state; returns what was built."""
    started = time.monotonic()
    pinned = pins()
    check_environment(pinned)
    sources = notebooks(notebook_dir)
    remove_old_site(output)
    with tempfile.TemporaryDirectory(prefix="labkit-lite-") as tmp:
        lite_dir, config_dir = Path(tmp) / "lite", Path(tmp) / "jupyter-config"
        lite_dir.mkdir()
        config_dir.mkdir()

        config = json.loads((LITE / "jupyter_lite_config.json").read_text())
        config["LiteBuildConfig"]["federated_extensions"] = [
            str(extension_dir(dist, name)) for dist, name in LAB_EXTENSIONS.items()]
        (lite_dir / "jupyter_lite_config.json").write_text(json.dumps(config, indent=2))
        shutil.copy(ROOT / "binder" / "overrides.json", lite_dir / "overrides.json")

        lite_json = json.loads((LITE / "jupyter-lite.json").read_text())
        if not offline:
            from jupyterlite_pyodide_kernel.constants import PYODIDE_CDN_URL, PYODIDE_MJS
            settings = lite_json["jupyter-config-data"]["litePluginSettings"][
                "@jupyterlite/pyodide-kernel-extension:kernel"]
            settings["pyodideUrl"] = f"{PYODIDE_CDN_URL}/{PYODIDE_MJS}"
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(lite_json, indent=2))

        for source in sources:
            lite_notebook(source, lite_dir / "files" / source.relative_to(notebook_dir))

        wheels = lite_dir / "pypi"
        wheels.mkdir()
        labkit = labkit_wheel(wheels)
        for wheel in pure_wheels({name: pinned[canonicalize_name(name)] for name in SITE_WHEELS}):
            shutil.copy(wheel, wheels / wheel.name)

        in_lock = local_pyodide(lite_dir / "static" / "pyodide") if offline else []

        jupyter_lite("build", lite_dir, output, config_dir)
        checks = []
        if check:
            printed = jupyter_lite("check", lite_dir, output, config_dir)
            checks = re.findall(r"^\.\s+(check:\S+)", printed, re.M)
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    return {"output": str(output), "seconds": round(time.monotonic() - started, 1),
            "megabytes": round(size / 1e6, 1), "notebooks": len(sources), "labkit": labkit.name,
            "pyodide": "this site" if offline else "Pyodide's CDN", "pyodide_packages": in_lock,
            "checks": checks}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to build (default: site/)")
    parser.add_argument("--offline", action="store_true",
                        help="serve Pyodide's core from the site (pyodide npm package) instead of its CDN")
    parser.add_argument("--no-check", dest="check", action="store_false", help="skip 'jupyter lite check'")
    parser.add_argument("--fetch-pyodide-core", action="store_true",
                        help="only fetch and verify the pyodide npm package into lite/cache/")
    args = parser.parse_args(argv)
    if args.fetch_pyodide_core:
        tarball = pyodide_core()
        print(f"{tarball.relative_to(ROOT)}: pyodide {PYODIDE_VERSION}, integrity verified")
        return 0
    built = build(args.output.resolve(), offline=args.offline, check=args.check)
    for name in built["checks"]:
        print(f"  passed {name}")
    print(f"{built['output']}: {built['notebooks']} notebooks, {built['labkit']}, Pyodide from "
          f"{built['pyodide']}; {built['megabytes']} MB, built in {built['seconds']} s"
          + (f", 'jupyter lite check' passed ({len(built['checks'])} checks)" if args.check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
