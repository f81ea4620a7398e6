"""Fixtures for the dashboard tests: the real server, in a subprocess, on a free local port.

``dashboard_server`` starts ``python -m kernelflow_dashboard.server`` against a fresh
SQLite file under ``tmp_path``, waits for ``GET /health`` to answer ``OK`` and yields a
``DashboardServer`` (``.url``, ``.db_uri``, ``.artifact_root``, ``.token``). The UI tests
use it too. ``make_server`` starts more (with a token, say).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

STARTUP_TIMEOUT_S = 60


@dataclass
class DashboardServer:
    """A running dashboard server process."""

    url: str
    db_uri: str
    db_path: Path
    artifact_root: Path
    token: str | None
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, token: str | None = None, api_only: bool = False,
                 env: dict[str, str] | None = None) -> DashboardServer:
    """Start the server process on a fresh store in ``folder`` and wait until it is healthy.

    Args:
        folder: where the SQLite file, the artifact root and the server's log go.
        token: require this token.
        api_only: skip the UI pages (``KERNELFLOW_DASHBOARD_API_ONLY=1``): starts faster.
        env: extra environment variables for the server process.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db_path, root, port = folder / "kernelflow.db", folder / "artifacts", free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("KERNELFLOW_TOKEN", None)
    env.pop("KERNELFLOW_ARTIFACT_ROOT", None)
    if api_only:
        env["KERNELFLOW_DASHBOARD_API_ONLY"] = "1"
    cmd = [sys.executable, "-m", "kernelflow_dashboard.server", "--store", f"sqlite:///{db_path}",
           "--artifacts", str(root), "--host", "127.0.0.1", "--port", str(port)]
    if token:
        cmd += ["--token", token]
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = DashboardServer(f"http://127.0.0.1:{port}", f"sqlite:///{db_path}", db_path, root,
                             token, proc, log_path)
    _wait_healthy(server)
    return server


def _wait_healthy(server: DashboardServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"The dashboard server exited:\n{server.log()}")
        try:
            if requests.get(server.url + "/health", timeout=2).text == "OK":
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"The dashboard server was not healthy in {STARTUP_TIMEOUT_S}s:\n"
                       f"{server.log()}")


def stop_server(server: DashboardServer) -> None:
    """Stop the server process (terminate, then kill)."""
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory):
    """A real dashboard server (UI + REST API) on a fresh store, shared by a test module."""
    server = start_server(tmp_path_factory.mktemp("dashboard"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """A real server with the REST API only (starts faster), shared by a test module."""
    server = start_server(tmp_path_factory.mktemp("api"), api_only=True)
    yield server
    stop_server(server)


@pytest.fixture
def make_server(tmp_path):
    """Start extra servers (``make_server(token="s3cret")``); all stopped after the test."""
    started: list[DashboardServer] = []

    def make(token: str | None = None, api_only: bool = False,
             env: dict[str, str] | None = None) -> DashboardServer:
        server = start_server(tmp_path / f"server{len(started)}", token, api_only, env)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_server(server)


@pytest.fixture
def mlflow_env(dashboard_server, monkeypatch):
    """Point the official mlflow client at the dashboard server (skip if mlflow is missing)."""
    mlflow = pytest.importorskip("mlflow")
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dashboard_server.url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(dashboard_server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()
