"""Servers for the parity tests: a kernelflow server with extra options, and MLflow's own.

``start_kernelflow(folder, *args)`` starts ``python -m kernelflow_dashboard.server`` (REST API
only) with extra command-line options such as ``--no-serve-artifacts``;
``start_mlflow(folder)`` starts the official ``mlflow server`` on a free port, so a test can
make the same call against both and compare status, shape and order.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

STARTUP_TIMEOUT_S = 300


@dataclass
class Server:
    """A running server process."""

    url: str
    folder: Path
    artifact_root: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def db_uri(self) -> str:
        """The SQLite store it serves."""
        return f"sqlite:///{self.folder / 'kernelflow.db'}"

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers)."""
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(15)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], folder: Path, port: int, root: Path, env: dict) -> Server:
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    server = Server(f"http://127.0.0.1:{port}", folder, root, proc, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"The server exited:\n{server.log()}")
        try:
            if requests.get(server.url + "/health", timeout=2).text == "OK":
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"The server was not healthy in {STARTUP_TIMEOUT_S}s:\n{server.log()}")


def _env() -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name in ("KERNELFLOW_TOKEN", "KERNELFLOW_ARTIFACT_ROOT", "MLFLOW_TRACKING_URI"):
        env.pop(name, None)
    return env


def start_kernelflow(folder: Path, *args: str) -> Server:
    """A kernelflow REST server on a fresh store in ``folder`` with extra options."""
    folder.mkdir(parents=True, exist_ok=True)
    root, port = folder / "artifacts", free_port()
    env = {**_env(), "KERNELFLOW_DASHBOARD_API_ONLY": "1"}
    cmd = [sys.executable, "-m", "kernelflow_dashboard.server",
           "--store", f"sqlite:///{folder / 'kernelflow.db'}", "--artifacts", str(root),
           "--host", "127.0.0.1", "--port", str(port), *args]
    return _start(cmd, folder, port, root, env)


def start_mlflow(folder: Path) -> Server:
    """The official ``mlflow server`` (SQLite backend, proxied artifacts) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    root, port = folder / "mlartifacts", free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow_cli), "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
           "--artifacts-destination", str(root), "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1"]
    return _start(cmd, folder, port, root, _env())
