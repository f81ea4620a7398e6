"""A real ``jupyter lab`` for the end-to-end tests: its own config, a token, a free port and a
non-root base URL (so everything the extension builds must honour ``{base_url}``)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

STARTUP_TIMEOUT_S = 90
BASE_URL = "/e2e-lab/"


@dataclass
class LabServer:
    """A running ``jupyter lab`` process (its own process group: the proxied dashboard too)."""

    url: str  # http://127.0.0.1:PORT/e2e-lab/
    token: str
    tracking_uri: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET ``path`` (relative to the base URL) with the server's token."""
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        return requests.get(self.url + path.lstrip("/"), headers=headers, timeout=60, **kwargs)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(folder: Path, tracking_uri: str, token: str = "e2e-token") -> LabServer:
    """Start ``jupyter lab`` in ``folder`` (config, workspaces and settings kept inside it)."""
    for sub in ("root", "config", "data", "runtime", "workspaces", "settings"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # no "Would you like to get notified about Jupyter news?" toast over the screenshots
    labconfig = folder / "config" / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port = free_port()
    env = {**os.environ, "KERNELFLOW_TRACKING_URI": tracking_uri, "PYTHONUNBUFFERED": "1",
           "JUPYTER_CONFIG_DIR": str(folder / "config"),
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    for name in ("KERNELFLOW_TOKEN", "KERNELFLOW_LAB_DASHBOARD", "KERNELFLOW_LAB_STORE",
                 "JUPYTERHUB_SERVICE_PREFIX"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
           f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={token}",
           f"--ServerApp.base_url={BASE_URL}", f"--ServerApp.root_dir={folder / 'root'}",
           f"--LabApp.workspaces_dir={folder / 'workspaces'}",
           f"--LabApp.user_settings_dir={folder / 'settings'}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log_path = folder / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=folder / "root", start_new_session=True)
    lab = LabServer(f"http://127.0.0.1:{port}{BASE_URL}", token, tracking_uri, proc, log_path)
    _wait_ready(lab)
    return lab


def _wait_ready(lab: LabServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{lab.log()}")
        try:
            if lab.get("api/status").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    stop_lab(lab)
    raise RuntimeError(f"jupyter lab did not answer in {STARTUP_TIMEOUT_S}s:\n{lab.log()}")


def stop_lab(lab: LabServer) -> None:
    """Stop Lab and what it started (the proxied dashboard, kernels): its process group."""
    try:
        os.killpg(lab.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        lab.process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(lab.process.pid, signal.SIGKILL)
        lab.process.wait(10)
    try:  # children that outlived the server
        os.killpg(lab.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
