"""Issue 16.8: `%kf dashboard` in a real kernel opens on the active experiment, fits the cell,
and the server it started stops with the kernel unless --keep."""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest
from jupyter_client.manager import start_new_kernel

from kernelflow.magics import dashboard

pytestmark = pytest.mark.notebook


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_closed(port: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not listening(port):
            return True
        time.sleep(0.2)
    return False


def execute(kc, code: str) -> tuple[str, list[dict]]:
    """Run code; return (stdout text, display data) of the execution."""
    msg_id = kc.execute(code)
    out, shown = [], []
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "display_data":
            shown.append(content["data"])
        elif kind == "error":
            raise AssertionError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out), shown


@pytest.fixture
def kernel_with_dashboard(kernel_env, monkeypatch):
    monkeypatch.setenv("KERNELFLOW_DASHBOARD_API_ONLY", "1")  # the REST server alone: fast
    km, kc = start_new_kernel(kernel_name="python3", env=dict(os.environ))
    pids = []
    try:
        execute(kc, "import kernelflow as kf\n%load_ext kernelflow\nkf.set_experiment('dash-exp')")
        yield km, kc, pids
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def start(kc, port: int, extra: str = "") -> tuple[str, list[dict], int]:
    out, shown = execute(kc, f"%kf dashboard --port {port} {extra}")
    pid = int(re.search(r"pid (\d+)", out).group(1))
    return out, shown, pid


def test_dashboard_stops_when_the_kernel_shuts_down(kernel_with_dashboard):
    km, kc, pids = kernel_with_dashboard
    port = dashboard.free_port()
    out, shown, pid = start(kc, port)
    pids.append(pid)
    assert "stops when the kernel shuts down" in out and listening(port)
    frame = shown[1]["text/html"]
    exp_id = execute(kc, "print(kf.get_experiment_by_name('dash-exp').experiment_id)")[0].strip()
    assert f"/runs?experiment_id={exp_id}" in frame  # opens on the active experiment's runs
    assert "width:100%" in frame and "scale(" in frame  # fits the cell's width
    kc.stop_channels()
    km.shutdown_kernel(now=False)  # a normal shutdown, as JupyterLab's
    assert wait_closed(port), "the dashboard outlived its kernel"


def test_keep_leaves_the_dashboard_running(kernel_with_dashboard):
    km, kc, pids = kernel_with_dashboard
    port = dashboard.free_port()
    out, _, pid = start(kc, port, "--keep --no-iframe")
    pids.append(pid)
    assert "keeps running after the kernel" in out
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    time.sleep(1.0)
    assert listening(port)
    os.kill(pid, signal.SIGTERM)
    assert wait_closed(port)
