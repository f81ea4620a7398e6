"""A real kernelflow dashboard server (REST API only) in a subprocess, for the tracing tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass
class Server:
    url: str
    db_uri: str
    process: subprocess.Popen
    log_path: Path


def start(folder: Path, api_only: bool = True) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = folder / "kernelflow.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if api_only:
        env["KERNELFLOW_DASHBOARD_API_ONLY"] = "1"
    env.pop("KERNELFLOW_TOKEN", None)
    env.pop("KERNELFLOW_ARTIFACT_ROOT", None)
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kernelflow_dashboard.server", "--store", f"sqlite:///{db}",
             "--artifacts", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", f"sqlite:///{db}", proc, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited:\n" + log_path.read_text())
        try:
            if requests.get(server.url + "/health", timeout=2).text == "OK":
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    stop(server)
    raise RuntimeError("server not healthy:\n" + log_path.read_text())


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)
