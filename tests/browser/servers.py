"""Start JupyterLab or Voila on 127.0.0.1 for the browser tests and the benchmark (see docs in stack.md).

Each server gets its own temporary HOME and JUPYTER_* folders, so no tab from
an earlier session is restored, and its own copy of the notebooks, so a run
in the browser never autosaves over the committed outputs.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running JupyterLab or Voila; ``url(path)`` adds the token; ``stop()`` ends it and cleans up.

    ``options`` are added to the command line; ``root`` serves that folder as it
    is (a fresh clone's notebooks) instead of copies of ``notebooks``.
    ``env`` is the environment the server runs in (its own HOME and JUPYTER_* folders).
    """

    def __init__(self, kind: str, notebooks: dict, options=(), root: Path | None = None):
        self.kind, self.port, self.token = kind, free_port(), secrets.token_hex(16)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"labkit-{kind}-"))
        self.root = root or self.tmp / "root"
        self.root.mkdir(exist_ok=True)
        for name, source in notebooks.items():
            shutil.copy(source, self.root / name)
        env = dict(os.environ, HOME=str(self.tmp))
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
            (self.tmp / sub).mkdir()
            env[var] = str(self.tmp / sub)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        if kind == "lab":
            command = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                       f"--port={self.port}", f"--ServerApp.token={self.token}", "--ServerApp.password=",
                       f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=None",
                       "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                       "--MappingKernelManager.default_kernel_name=python3"]
        else:
            command = [str(BIN / "voila"), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={self.port}",
                       f"--Voila.root_dir={self.root}", f"--ServerApp.token={self.token}",
                       "--show_tracebacks=False"]
        self.env = env
        self.log = open(self.tmp / "server.log", "w")
        self.process = subprocess.Popen([*command, *options], cwd=self.root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self._wait()

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def _wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        probe = self.url("api/status" if self.kind == "lab" else "voila/static/require.min.js")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {(self.tmp / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    return
            except OSError as exc:
                if getattr(exc, "code", None) == 404:    # the server answers: it is up
                    return
                time.sleep(0.25)
        raise RuntimeError(f"{self.kind} did not start in {timeout} s: {(self.tmp / 'server.log').read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def accept_dialogs(page) -> list:
    """Answer JupyterLab's dialogs: a "Select Kernel" chooser sometimes appears while the session starts."""
    seen = []
    for _ in range(4):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0:
            break
        seen.append(dialog.first.inner_text())
        choose = dialog.locator("select")
        if choose.count():
            options = choose.first.locator("option").all_inner_texts()
            python = [o for o in options if "Python" in o]
            if python:
                choose.first.select_option(label=python[0])
        dialog.locator("button.jp-mod-accept").first.click()
        try:
            dialog.first.wait_for(state="detached", timeout=5_000)
        except Exception:  # noqa: BLE001 - look again
            pass
    return seen


def open_and_run_all(page, server, notebook: str, figures: int, timeout: float = 90_000) -> None:
    """Open ``notebook`` in JupyterLab, Run All, and wait until ``figures`` timelines are drawn."""
    try:
        page.goto(server.url(f"lab/tree/{notebook}?reset"))
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=timeout)
        drawn = f"document.querySelectorAll('.labkit-timeline svg.svg-figure').length >= {figures}"
        # A Run All sent while the kernel session is still settling can run nothing, or only the
        # first cell; the notebook is idempotent, so ask again until every figure is drawn.
        for attempt in range(4):
            accept_dialogs(page)
            try:
                page.click('.lm-MenuBar-itemLabel:text-is("Run")', timeout=10_000)
                page.click('.lm-Menu-item[data-command="runmenu:run-all"]', timeout=10_000)
            except Exception:  # noqa: BLE001 - a dialog (kernel selection) came up meanwhile: answer it, ask again
                if attempt == 3:
                    raise
                continue
            try:
                page.wait_for_function(drawn, timeout=timeout if attempt == 3 else 30_000)
                break
            except Exception:  # noqa: BLE001 - not everything ran: ask again (the last attempt raises)
                if attempt == 3:
                    raise
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=timeout)
    except Exception:
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / f"open-{notebook}.png"), full_page=True)
        raise
