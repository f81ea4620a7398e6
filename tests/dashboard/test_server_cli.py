"""``kernelflow ui`` start-up errors are one clear line, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

START_TIMEOUT_S = 90


def _ui(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "kernelflow", "ui", "--store",
           f"sqlite:///{tmp_path / 'kf.db'}", "--artifacts", str(tmp_path / "art"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)


@pytest.mark.parametrize("api_only", [False, True])
def test_busy_port_is_a_clear_error(tmp_path, monkeypatch, api_only):
    if api_only:
        monkeypatch.setenv("KERNELFLOW_DASHBOARD_API_ONLY", "1")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _ui(tmp_path, "--port", str(busy.getsockname()[1]))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "kernelflow: error: Cannot serve on 127.0.0.1:" in done.stderr
    assert "--port" in done.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_port_out_of_range_is_a_clear_error(tmp_path, port):
    done = _ui(tmp_path, "--port", port)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"Invalid port {port}" in done.stderr and "65535" in done.stderr
