"""Issue 15, security: sign-in redirects, Host/Origin checks on any bind address, no
credentials in the log, expiring session cookies, quiet refusals and keep-alive on 401/403."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from kernelflow_dashboard.auth import SESSION_SECONDS, TokenCheck, local_next

TOKEN = "s3cret-Tok3n-xyz"
API = "/api/2.0/mlflow"
SERVER = ("kernelflow_dashboard.server",)


# -- servers ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m kernelflow_dashboard.server`` with any options, on a fresh store."""

    def __init__(self, folder: Path, *args: str, api_only: bool = False,
                 token: str | None = None, command: tuple[str, ...] = SERVER) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "server.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name in ("KERNELFLOW_TOKEN", "KERNELFLOW_ARTIFACT_ROOT", "KERNELFLOW_ALLOWED_ORIGINS",
                     "KERNELFLOW_DASHBOARD_API_ONLY"):
            env.pop(name, None)
        if api_only:
            env["KERNELFLOW_DASHBOARD_API_ONLY"] = "1"
        if token:
            env["KERNELFLOW_TOKEN"] = token
        cmd = [sys.executable, "-m", *command, "--store",
               f"sqlite:///{folder / 'kf.db'}", "--artifacts", str(folder / "artifacts"),
               "--port", str(self.port), *args]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if requests.get(self.url + "/health", timeout=2).text == "OK":
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """UI pages + REST API with a token (given through KERNELFLOW_TOKEN)."""
    server = Server(tmp_path_factory.mktemp("token"), "--host", "127.0.0.1", token=TOKEN)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    """UI pages + REST API bound to every address, without a token."""
    server = Server(tmp_path_factory.mktemp("open"), "--host", "0.0.0.0")
    yield server
    server.stop()


# -- 1. open redirect after sign-in ---------------------------------------------------------
@pytest.mark.parametrize("target", ["/\\evil.example/", "/%5Cevil.example/", "//evil.example/",
                                    "/\t/evil.example", "https://evil.example/", "\\\\evil.example",
                                    "/\\/evil.example", "javascript:alert(1)", "evil.example"])
def test_local_next_refuses_other_sites(target):
    from urllib.parse import unquote

    assert local_next(unquote(target)) == "/"


def test_local_next_keeps_paths_on_this_server():
    assert local_next("/runs?experiment=1#top") == "/runs?experiment=1#top"


def test_sign_in_never_redirects_off_site(token_server):
    for nxt in ("/%5Cevil.example/", "/%5C%5Cevil.example/", "/%09/evil.example"):
        resp = requests.post(f"{token_server.url}/login?next={nxt}", data={"token": TOKEN},
                             allow_redirects=False)
        assert resp.status_code in (302, 303) and resp.headers["Location"] == "/", nxt
    ok = requests.post(f"{token_server.url}/login?next=/runs", data={"token": TOKEN},
                       allow_redirects=False)
    assert ok.headers["Location"] == "/runs"


# -- 2. Host and Origin checks whatever the bind address -----------------------------------
def test_rebinding_host_is_refused_on_any_bind_address(open_server):
    for path in (f"{API}/experiments/search", "/", "/runs"):
        resp = requests.get(open_server.url + path, headers={"Host": "rebind.example"},
                            allow_redirects=False)
        assert resp.status_code == 403, (path, resp.status_code)
        assert "rebind.example" in resp.json()["message"]
    post = requests.post(open_server.url + f"{API}/experiments/create", json={"name": "rebound"},
                         headers={"Host": f"rebind.example:{open_server.port}"})
    assert post.status_code == 403


def test_this_machine_and_private_addresses_are_answered(open_server):
    hosts = [f"127.0.0.1:{open_server.port}", "localhost", "[::1]:80", "10.1.2.3",
             f"192.168.0.7:{open_server.port}", socket.gethostname()]
    for host in hosts:
        resp = requests.post(open_server.url + f"{API}/experiments/search", json={},
                             headers={"Host": host})
        assert resp.status_code == 200, (host, resp.text)


def _websocket_handshake(url: str, path: str, origin: str) -> tuple[int, bytes]:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path, headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Origin": origin,
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
        resp = conn.getresponse()
        return resp.status, resp.read() if resp.status != 101 else b""
    finally:
        conn.close()


def test_cross_origin_websocket_is_refused_on_any_bind_address(open_server):
    status, body = _websocket_handshake(open_server.url, "/runs/ws", "http://evil.example")
    assert status == 403 and b"Cross-origin" in body


def test_startup_warning_says_what_is_exposed(open_server):
    log = open_server.log()
    assert "without a token" in log and "KERNELFLOW_TOKEN" in log
    assert "localhost" in log and "private-network" in log


def test_allowed_hosts_and_cors_origins_options(tmp_path):
    server = Server(tmp_path, "--host", "127.0.0.1", "--allowed-hosts", "hub.example.org,*.lab.test",
                    "--cors-allowed-origins", "https://hub.example.org", api_only=True)
    try:
        url = server.url + f"{API}/experiments/search"
        assert requests.post(url, json={}, headers={"Host": "hub.example.org"}).status_code == 200
        assert requests.post(url, json={}, headers={"Host": "a.lab.test:8080"}).status_code == 200
        assert requests.post(url, json={}, headers={"Host": "evil.example"}).status_code == 403
        cors = requests.post(url, json={}, headers={"Host": "hub.example.org",
                                                    "Origin": "https://hub.example.org"})
        assert cors.status_code == 200
        other = requests.post(url, json={}, headers={"Host": "hub.example.org",
                                                     "Origin": "https://evil.example"})
        assert other.status_code == 403
    finally:
        server.stop()


# -- 3. no credentials in the log ------------------------------------------------------------
def test_credentials_never_reach_the_log(token_server):
    url = token_server.url
    assert requests.get(f"{url}{API}/experiments/get", params={"experiment_id": "0",
                        "token": "typo-of-the-Tok3n"}).status_code == 401
    assert requests.get(f"{url}{API}/experiments/get",
                        params={"experiment_id": "999", "token": TOKEN}).status_code == 404
    assert requests.get(f"{url}/runs", params={"token": TOKEN}).status_code == 200
    assert requests.get(f"{url}{API}/nope", headers={"Authorization": "Bearer wrong-bearer-value"},
                        ).status_code == 401
    time.sleep(0.3)
    log = token_server.log()
    assert "experiments/get" in log and "[redacted]" in log
    for secret in (TOKEN, "typo-of-the-Tok3n", "wrong-bearer-value"):
        assert secret not in log


def test_kernelflow_ui_keeps_credentials_out_of_its_output(tmp_path):
    server = Server(tmp_path, api_only=True, token=TOKEN, command=("kernelflow", "ui"))
    try:
        url = f"{server.url}{API}/experiments/get"
        for token in ("typo-of-the-Tok3n", TOKEN + "x"):
            assert requests.get(url, params={"experiment_id": "0", "token": token}).status_code == 401
    finally:
        server.stop()
    log = server.log()
    assert "401 GET" in log and "[redacted]" in log
    assert "typo-of-the-Tok3n" not in log and TOKEN not in log


def test_help_says_to_prefer_the_environment_variable():
    done = subprocess.run([sys.executable, "-m", "kernelflow", "ui", "--help"],
                          capture_output=True, text=True, timeout=60)
    text = " ".join(done.stdout.split())
    assert "KERNELFLOW_TOKEN" in text and "ps" in text
    assert "--allowed-hosts" in text and "--cors-allowed-origins" in text


# -- 4. the session cookie expires and follows the token ---------------------------------------
def test_session_cookie_expires():
    now = [1_000_000.0]
    check = TokenCheck(TOKEN, clock=lambda: now[0])
    value = check.session_value()
    assert TOKEN not in value and check.session_ok(value)
    now[0] += SESSION_SECONDS + 1
    assert not check.session_ok(value)
    assert check.session_ok(check.session_value())


def test_session_cookie_is_tied_to_the_token():
    value = TokenCheck(TOKEN).session_value()
    assert not TokenCheck("another-token").session_ok(value)
    assert not TokenCheck(TOKEN).session_ok("9" * 12 + "." + value.partition(".")[2])


def test_server_refuses_old_and_expired_cookies(token_server):
    import hashlib
    import hmac

    session = requests.Session()
    login = session.post(token_server.url + "/login", data={"token": TOKEN},
                         allow_redirects=False)
    assert "max-age" in login.headers["Set-Cookie"].lower()
    get = f"{token_server.url}{API}/experiments/get?experiment_id=0"
    assert session.get(get).status_code == 200
    fixed = hmac.new(TOKEN.encode(), b"kernelflow-session", hashlib.sha256).hexdigest()
    expired = TokenCheck(TOKEN, clock=lambda: time.time() - 2 * SESSION_SECONDS).session_value()
    for value in (fixed, expired):
        assert requests.get(get, cookies={"kernelflow_session": value}).status_code == 401


# -- 5. unauthenticated autoload.js is refused quietly -----------------------------------------
def test_autoload_without_a_session_is_refused_quietly(token_server):
    for _ in range(3):
        resp = requests.get(token_server.url + "/runs/autoload.js",
                            params={"bokeh-autoload-element": "x", "bokeh-absolute-url": "x"},
                            allow_redirects=False)
        assert resp.status_code == 401
    time.sleep(0.3)
    log = token_server.log()
    assert "autoload.js" in log
    assert "Traceback" not in log and "TypeError" not in log


# -- 12. 401/403 keep the connection or say Connection: close ------------------------------------
@pytest.mark.parametrize("method, path, headers", [
    ("POST", f"{API}/experiments/search", {}),
    ("GET", f"{API}/experiments/get?experiment_id=0", {}),
    ("POST", f"{API}/experiments/search", {"Authorization": "Bearer wrong"}),
])
def test_refusals_never_reset_a_reused_connection(token_server, method, path, headers):
    u = urlparse(token_server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    ok_headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        for _ in range(15):
            body = b"{}" if method == "POST" else None
            conn.request(method, path, body=body, headers={**headers,
                                                          "Content-Type": "application/json"})
            denied = conn.getresponse()
            denied.read()
            assert denied.status == 401
            if (denied.getheader("Connection") or "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            conn.request("POST", f"{API}/experiments/search", body=b"{}", headers=ok_headers)
            ok = conn.getresponse()
            ok.read()
            assert ok.status == 200
            if (ok.getheader("Connection") or "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    finally:
        conn.close()
