"""How big and how heavy the lab is — against Binder's 1–2 GB of RAM.

Prints
  1. the installed size of .venv (what 'make test' installed: lab + tests);
  2. the time of a cold set-up, as 'make lab' does it on a fresh machine:
     'python3 -m venv' + 'pip install -c constraints.txt -e .' into a
     temporary venv (pip's cache is off unless --warm-cache), and that venv's size;
  3. the RSS of a kernel after executing each notebook in notebooks/ with
     nbclient (one fresh kernel per notebook, as JupyterLab gives each open
     notebook), their sum, and the JupyterLab server's own RSS.

Run:  .venv/bin/python benchmarks/footprint.py [--skip-setup] [--warm-cache]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MB = 1024 * 1024


def dir_size(path: Path) -> int:
    """Bytes on disk under path (files counted once, symlinks not followed)."""
    total, seen = 0, set()
    for dirpath, dirnames, filenames in os.walk(path):
        for fname in filenames:
            st = os.lstat(os.path.join(dirpath, fname))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))


def venv_size() -> None:
    venv = ROOT / ".venv"
    if not venv.is_dir():
        print(".venv: not there (run 'make lab' or 'make test' first)")
        return
    n = len(list((venv / "lib").glob("python3*/site-packages/*.dist-info")))
    print(f".venv installed size: {dir_size(venv) / MB:.0f} MB ({n} distributions)")


def cold_setup(python: str, warm_cache: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="labkit-footprint-") as tmp:
        src, venv = Path(tmp) / "src", Path(tmp) / "venv"
        # A copy of what 'pip install -e .' needs, so the working tree is not touched.
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "constraints.txt"):
            shutil.copy2(ROOT / name, src / name)
        shutil.copytree(ROOT / "labkit", src / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ)
        if not warm_cache:
            env["PIP_NO_CACHE_DIR"] = "1"
        t0 = time.perf_counter()
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        t1 = time.perf_counter()
        pip = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             "-c", str(src / "constraints.txt"), "-e", str(src)],
            env=env, cwd=src, capture_output=True, text=True,
        )
        if pip.returncode:  # pip's warnings (e.g. about an ignored local index) only if it failed
            sys.exit(f"pip install failed:\n{pip.stdout}{pip.stderr}")
        t2 = time.perf_counter()
        cache = "pip cache on" if warm_cache else "pip cache off"
        print(f"cold set-up (python3 -m venv + pip install -c constraints.txt -e ., {cache}): "
              f"{t2 - t0:.1f} s (venv {t1 - t0:.1f} s, pip {t2 - t1:.1f} s)")
        n = len(list((venv / "lib").glob("python3*/site-packages/*.dist-info")))
        print(f"  fresh lab venv (no test tools): {dir_size(venv) / MB:.0f} MB ({n} distributions)")


def notebook_kernels(notebooks: Path) -> int:
    """Run every notebook in a fresh kernel; print each kernel's RSS; return the sum."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    def fresh_kernel() -> KernelManager:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(notebooks))
        return km

    km = fresh_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        time.sleep(0.5)
        print(f"idle kernel (nothing run): {rss(km.provisioner.pid) / MB:.0f} MB RSS")
        reply = kc.execute_interactive("import labkit, ipywidgets, bqplot, pandas, numpy", timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        print(f"kernel after importing labkit, ipywidgets, bqplot, pandas, numpy: "
              f"{rss(km.provisioner.pid) / MB:.0f} MB RSS")
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)

    paths = sorted(notebooks.glob("*.ipynb")) if notebooks.is_dir() else []
    if not paths:
        print(f"{notebooks}: no notebooks yet, so no kernel was measured after running one")
        return 0
    total = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        km = fresh_kernel()
        try:
            t0 = time.perf_counter()
            NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(notebooks)}}).execute()
            took = time.perf_counter() - t0
            used = rss(km.provisioner.pid)
        finally:
            km.shutdown_kernel(now=True)
        total += used
        print(f"kernel after running {path.name}: {used / MB:.0f} MB RSS ({took:.1f} s)")
    print(f"all {len(paths)} notebook kernels together: {total / MB:.0f} MB RSS")
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_server() -> int:
    """RSS of an idle JupyterLab server, started with throw-away settings."""
    jupyter = Path(sys.executable).parent / "jupyter"
    port, token = free_port(), "footprint"
    with tempfile.TemporaryDirectory(prefix="labkit-footprint-lab-") as tmp:
        env = dict(os.environ, HOME=tmp, JUPYTER_CONFIG_DIR=f"{tmp}/config", JUPYTER_DATA_DIR=f"{tmp}/data",
                   JUPYTER_RUNTIME_DIR=f"{tmp}/runtime", IPYTHONDIR=f"{tmp}/ipython",
                   JUPYTERLAB_SETTINGS_DIR=f"{tmp}/settings", JUPYTERLAB_WORKSPACES_DIR=f"{tmp}/workspaces")
        cmd = [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.token={token}", "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        print("JupyterLab server: did not start")
                        return 0
                    time.sleep(0.3)
            time.sleep(1)
            used = rss(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"JupyterLab server (idle, lab page served once): {used / MB:.0f} MB RSS")
    return used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-setup", action="store_true", help="skip the cold set-up (it downloads ~100 packages)")
    ap.add_argument("--warm-cache", action="store_true", help="let pip use its cache in the cold set-up")
    ap.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="folder of notebooks (default: notebooks/)")
    ap.add_argument("--python", default=shutil.which("python3") or sys.executable,
                    help="the Python the cold set-up creates its venv with (default: python3 on PATH)")
    args = ap.parse_args()

    venv_size()
    if not args.skip_setup:
        cold_setup(args.python, args.warm_cache)
    kernels = notebook_kernels(args.notebooks.resolve())
    server = lab_server()
    if server and kernels:
        print(f"Binder budget: server + all notebook kernels = {(server + kernels) / MB:.0f} MB "
              f"of mybinder's 1024-2048 MB")


if __name__ == "__main__":
    main()
