"""%kf dashboard: start a real server process, reuse a running one, report failures."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

import pytest
from IPython.core.error import UsageError

import kernelflow as kf
from kernelflow.magics import dashboard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HEALTH_SERVER = textwrap.dedent("""
    import http.server, sys
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"OK" if self.path == "/health" else b"dashboard"
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""")


@pytest.fixture
def port():
    p = free_port()
    yield p
    dashboard.stop_dashboard(p)


def test_dashboard_command_uses_kernelflow_ui_and_the_current_store(tracking_uri):
    cmd = dashboard.dashboard_command(5123, "127.0.0.1")
    assert cmd[:4] == [sys.executable, "-m", "kernelflow", "ui"]
    assert cmd[cmd.index("--port") + 1] == "5123" and cmd[cmd.index("--store") + 1] == tracking_uri


@pytest.fixture
def api_only(monkeypatch):
    """Started servers are real `kernelflow ui` processes without the Panel pages (fast)."""
    monkeypatch.setenv("KERNELFLOW_DASHBOARD_API_ONLY", "1")


@pytest.fixture
def serve(api_only):
    """Start a real `kernelflow ui` on a port for a store; stopped after the test."""
    procs = []

    def start(port: int, store: str):
        cmd = [sys.executable, "-m", "kernelflow", "ui", "--port", str(port), "--store", store]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while not dashboard.healthy(f"http://127.0.0.1:{port}"):
            assert procs[-1].poll() is None and time.monotonic() < deadline, "ui did not start"
            time.sleep(0.2)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def health_only(port):
    """Another service on the port that answers /health with 200 but is no kernelflow server."""
    proc = subprocess.Popen([sys.executable, "-c", HEALTH_SERVER, str(port)])
    deadline = time.monotonic() + 20
    while not dashboard.healthy(f"http://127.0.0.1:{port}") and time.monotonic() < deadline:
        time.sleep(0.1)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def test_starts_then_reuses(tracking_uri, api_only, port):
    url, started = dashboard.start_dashboard(port, timeout=60)
    assert started and url == f"http://127.0.0.1:{port}" and dashboard.healthy(url)
    assert dashboard.kernelflow_version(url) == kf.__version__
    proc = dashboard._processes[port]
    url2, started2 = dashboard.start_dashboard(port)
    assert not started2 and dashboard._processes[port] is proc
    assert dashboard.stop_dashboard(port) and proc.poll() is not None
    assert not dashboard.healthy(url)


def test_service_answering_health_is_not_reused(tracking_uri, api_only, port, health_only):
    assert dashboard.who_serves("127.0.0.1", port) == dashboard.OTHER_SERVICE
    with pytest.raises(UsageError, match=f"port {port} is used by another service.*--port"):
        dashboard.start_dashboard(port)
    url, started = dashboard.start_dashboard(port, pick_free=True, timeout=60)
    other = int(url.rsplit(":", 1)[1])
    assert started and other != port and dashboard.kernelflow_version(url) == kf.__version__
    dashboard.stop_dashboard(other)


def test_kernelflow_server_of_another_store_is_not_reused(tracking_uri, port, serve, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    kf.Client(other).create_experiment("only-in-the-other-store")
    serve(port, other)
    assert dashboard.who_serves("127.0.0.1", port) == dashboard.OTHER_STORE
    with pytest.raises(UsageError, match="kernelflow server of another store"):
        dashboard.start_dashboard(port)
    assert port not in dashboard._processes


def test_kernelflow_server_of_this_store_is_reused(tracking_uri, port, serve):
    kf.set_experiment("shared")
    serve(port, tracking_uri)
    assert dashboard.start_dashboard(port) == (f"http://127.0.0.1:{port}", False)


def test_http_tracking_uri_links_to_that_server(tracking_uri, shell, port, serve, monkeypatch):
    serve(port, tracking_uri)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    kf.set_tracking_uri(f"http://127.0.0.1:{port}")
    try:
        shell.run_line_magic("kf", "dashboard")
    finally:
        kf.set_tracking_uri(tracking_uri)
    assert "the tracking server" in shown[0].data
    assert f'src="http://127.0.0.1:{port}/runs?experiment_id=0"' in shown[1].data
    assert dashboard._processes == {}


def test_http_tracking_uri_not_answering_is_a_clear_error(tracking_uri, shell, port):
    kf.set_tracking_uri(f"http://user:secret@127.0.0.1:{port}")
    try:
        with pytest.raises(UsageError, match="not a kernelflow server") as err:
            shell.run_line_magic("kf", "dashboard")
    finally:
        kf.set_tracking_uri(tracking_uri)
    assert "secret" not in str(err.value)
    assert dashboard._processes == {}


def test_server_that_exits_shows_its_log(port):
    cmd = [sys.executable, "-c", "import sys; print('no panel here'); sys.exit(3)"]
    with pytest.raises(UsageError, match="(?s)exited with code 3.*no panel here"):
        dashboard.start_dashboard(port, command=cmd, timeout=20)


def test_magic_shows_link_and_iframe(tracking_uri, api_only, shell, port, monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    shell.run_line_magic("kf", f"dashboard --port {port}")
    assert f"http://127.0.0.1:{port}" in shown[0].data and "started" in shown[0].data
    # the page opens on the active experiment's runs (issue 16.8)
    assert f'src="http://127.0.0.1:{port}/runs?experiment_id=0"' in shown[1].data
    shell.run_line_magic("kf", f"dashboard --port {port} --no-iframe")
    assert "already running" in shown[2].data and len(shown) == 3
    shell.run_line_magic("kf", f"dashboard --port {port} --stop")
    assert f"stopped the dashboard on port {port}" in capsys.readouterr().out


def test_link_goes_through_server_proxy_on_jupyterhub(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
    assert dashboard.browser_url("http://127.0.0.1:5000", 5000) == "/user/ana/proxy/5000/"


@pytest.mark.slow
def test_real_kernelflow_ui_starts_and_answers_health(tracking_uri, port):
    import importlib.util
    import urllib.request

    if importlib.util.find_spec("panel") is None:
        pytest.skip("the dashboard extra is not installed")
    url, started = dashboard.start_dashboard(port, timeout=90)
    assert started
    with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
        assert resp.status == 200
