"""%kf dashboard: start a real server process, reuse a running one, report failures."""

from __future__ import annotations

import socket
import sys
import textwrap

import pytest
from IPython.core.error import UsageError

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


def test_starts_then_reuses(port):
    cmd = [sys.executable, "-c", HEALTH_SERVER, str(port)]
    url, started = dashboard.start_dashboard(port, command=cmd, timeout=20)
    assert started and url == f"http://127.0.0.1:{port}" and dashboard.healthy(url)
    proc = dashboard._processes[port]
    url2, started2 = dashboard.start_dashboard(port, command=cmd)
    assert not started2 and dashboard._processes[port] is proc
    assert dashboard.stop_dashboard(port) and proc.poll() is not None
    assert not dashboard.healthy(url)


def test_server_that_exits_shows_its_log(port):
    cmd = [sys.executable, "-c", "import sys; print('no panel here'); sys.exit(3)"]
    with pytest.raises(UsageError, match="(?s)exited with code 3.*no panel here"):
        dashboard.start_dashboard(port, command=cmd, timeout=20)


def test_magic_shows_link_and_iframe(shell, port, monkeypatch, capsys):
    cmd = [sys.executable, "-c", HEALTH_SERVER, str(port)]
    monkeypatch.setattr(dashboard, "dashboard_command", lambda p, h: cmd)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    shell.run_line_magic("kf", f"dashboard --port {port}")
    assert f"http://127.0.0.1:{port}" in shown[0].data and "started" in shown[0].data
    assert shown[1].src == f"http://127.0.0.1:{port}"
    shell.run_line_magic("kf", f"dashboard --port {port} --no-iframe")
    assert "already running" in shown[2].data and len(shown) == 3
    shell.run_line_magic("kf", f"dashboard --port {port} --stop")
    assert "stopped port" in capsys.readouterr().out


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
