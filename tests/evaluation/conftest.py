"""Fixtures for the evaluation tests: a real IPython shell with ``%load_ext kernelflow``."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def eval_shell(tracking_uri):
    """A real IPython InteractiveShell with the kernelflow magics loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kernelflow")
    yield ip
    ip.run_line_magic("unload_ext", "kernelflow")


class EvalServer:
    """A running ``kernelflow_dashboard.server``: ``url`` and its store's ``db_uri``."""

    def __init__(self, folder, api_only: bool) -> None:
        import socket
        import subprocess
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("KERNELFLOW_TOKEN", None)
        env.pop("KERNELFLOW_ARTIFACT_ROOT", None)
        if api_only:
            env["KERNELFLOW_DASHBOARD_API_ONLY"] = "1"
        self.db_uri = f"sqlite:///{folder / 'kernelflow.db'}"
        self.log_path = folder / "server.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kernelflow_dashboard.server", "--store", self.db_uri,
             "--artifacts", str(folder / "artifacts"), "--host", "127.0.0.1", "--port",
             str(port)], stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{port}"

    def wait(self, timeout: float = 90) -> None:
        import time

        import requests

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self.log_path.read_text(errors="replace"))
            try:
                if requests.get(self.url + "/health", timeout=2).text == "OK":
                    return
            except requests.ConnectionError:
                time.sleep(0.1)

    def stop(self) -> None:
        import subprocess

        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def eval_api_server(tmp_path_factory):
    """A real server (REST API only) on a fresh store, per module; yields its URL."""
    server = EvalServer(tmp_path_factory.mktemp("eval-api"), api_only=True)
    server.wait()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def eval_ui_server(tmp_path_factory):
    """A real dashboard server (UI + API) on a fresh store, per module."""
    server = EvalServer(tmp_path_factory.mktemp("eval-ui"), api_only=False)
    server.wait()
    yield server
    server.stop()


@pytest.fixture
def eval_execute_notebook(tracking_uri, tmp_path, monkeypatch):
    """Execute a notebook with nbclient in a real python3 kernel, in ``tmp_path``."""
    from nbclient import NotebookClient

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    def execute(nb, timeout: int = 300):
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        return nb

    return execute
