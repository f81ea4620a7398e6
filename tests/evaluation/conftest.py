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


@pytest.fixture(scope="module")
def eval_api_server(tmp_path_factory):
    """A real ``kernelflow_dashboard.server`` (REST API only) on a fresh store, per module."""
    import socket
    import subprocess
    import sys
    import time

    import requests

    folder = tmp_path_factory.mktemp("eval-api")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KERNELFLOW_DASHBOARD_API_ONLY": "1"}
    env.pop("KERNELFLOW_TOKEN", None)
    env.pop("KERNELFLOW_ARTIFACT_ROOT", None)
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernelflow_dashboard.server", "--store",
         f"sqlite:///{folder / 'kernelflow.db'}", "--artifacts", str(folder / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
        env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text(errors="replace"))
            try:
                if requests.get(url + "/health", timeout=2).text == "OK":
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
