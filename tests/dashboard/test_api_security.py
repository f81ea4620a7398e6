"""Security of the server: tokens, artifact path escapes, hosts, origins and size limits."""

from __future__ import annotations

import base64
import http.client
import os
import time
from urllib.parse import urlparse

import pytest
import requests

ART = "/api/2.0/mlflow-artifacts/artifacts"


def raw(server_url: str, method: str, path: str, body: bytes | None = None,
        headers: dict | None = None) -> tuple[int, bytes]:
    """Send a request with the path exactly as given (no client-side normalisation)."""
    u = urlparse(server_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", [
    f"{ART}/../../etc/passwd",
    f"{ART}/%2e%2e/%2e%2e/etc/passwd",
    f"{ART}/a/..%2f..%2fsecret.txt",
    f"{ART}//etc/passwd",
    f"{ART}/%2Fetc%2Fpasswd",
])
def test_artifact_paths_cannot_leave_the_root(dashboard_server, path):
    for method, body in (("GET", None), ("PUT", b"x")):
        status, data = raw(dashboard_server.url, method, path, body)
        assert status in (400, 404), (method, path, status, data)
        assert b"root:" not in data
    assert not (dashboard_server.artifact_root.parent / "secret.txt").exists()


def test_symlinks_out_of_the_root_are_refused(dashboard_server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    dashboard_server.artifact_root.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, dashboard_server.artifact_root / "link")
    status, data = raw(dashboard_server.url, "GET", f"{ART}/link/secret.txt")
    assert status == 400 and b"top secret" not in data
    status, _ = raw(dashboard_server.url, "PUT", f"{ART}/link/planted.txt", b"x")
    assert status == 400 and not (outside / "planted.txt").exists()
    listing = requests.get(dashboard_server.url + ART, params={"path": "link"})
    assert listing.status_code == 400


def test_list_query_path_is_checked(dashboard_server):
    resp = requests.get(dashboard_server.url + ART, params={"path": "../"})
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_stored_html_is_never_served_as_html(dashboard_server):
    assert requests.put(f"{dashboard_server.url}{ART}/x/page.html",
                        data=b"<script>alert(1)</script>").status_code == 200
    resp = requests.get(f"{dashboard_server.url}{ART}/x/page.html")
    assert resp.content == b"<script>alert(1)</script>"
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_token_is_required_everywhere_but_health(make_server):
    server = make_server(token="s3cret", api_only=True)
    url = server.url + "/api/2.0/mlflow/experiments/search"
    assert requests.get(server.url + "/health").text == "OK"
    denied = requests.post(url, json={})
    assert denied.status_code == 401 and denied.json()["error_code"] == "UNAUTHENTICATED"
    assert requests.post(url, json={}, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert requests.get(f"{server.url}{ART}/a.txt").status_code == 401
    assert requests.post(url, json={}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    basic = base64.b64encode(b"anyone:s3cret").decode()
    assert requests.post(url, json={}, headers={"Authorization": f"Basic {basic}"}).status_code == 200


@pytest.mark.mlflow
def test_mlflow_client_sends_the_token(make_server, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    server = make_server(token="s3cret", api_only=True)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = mlflow.MlflowClient(server.url)
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)  # nothing from the environment may sign us in
    with pytest.raises(mlflow.exceptions.MlflowException, match="token"):
        client.search_experiments()
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cret")
    assert [e.name for e in client.search_experiments()] == ["Default"]
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "me")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    assert client.create_experiment("with-basic-auth")


def test_kernelflow_sdk_sends_the_token(make_server, monkeypatch):
    import kernelflow
    from kernelflow.store.rest import RestStore

    server = make_server(token="s3cret", api_only=True)
    with pytest.raises(kernelflow.errors.KernelflowError, match="KERNELFLOW_TOKEN"):
        RestStore(server.url, token="wrong").search_experiments()
    assert RestStore(server.url, token="s3cret").get_experiment("0").name == "Default"


def test_ui_pages_need_the_token(make_server):
    server = make_server(token="s3cret")
    page = requests.get(server.url + "/", allow_redirects=False)
    assert page.status_code in (302, 303) and "login" in page.headers["Location"]
    login = requests.get(server.url + "/login")
    assert login.status_code == 200 and "token" in login.text
    bad = requests.post(server.url + "/login", data={"token": "nope"}, allow_redirects=False)
    assert bad.status_code == 401
    session = requests.Session()
    ok = session.post(server.url + "/login?next=/", data={"token": "s3cret"},
                      allow_redirects=False)
    assert ok.status_code in (302, 303) and "kernelflow_session" in session.cookies
    assert "s3cret" not in session.cookies["kernelflow_session"]
    assert session.get(server.url + "/").status_code == 200
    via_query = requests.Session()
    assert via_query.get(server.url + "/?token=s3cret").status_code == 200
    assert via_query.get(server.url + "/api/2.0/mlflow/experiments/get",
                         params={"experiment_id": "0"}).status_code == 200


def test_login_does_not_redirect_off_site(make_server):
    server = make_server(token="s3cret", api_only=True)
    resp = requests.post(server.url + "/login?next=//evil.example/", data={"token": "s3cret"},
                         allow_redirects=False)
    assert resp.headers["Location"] == "/"


def test_foreign_host_and_origin_are_refused(dashboard_server):
    url = dashboard_server.url + "/api/2.0/mlflow/experiments/search"
    rebound = requests.post(url, json={}, headers={"Host": "evil.example:80"})
    assert rebound.status_code == 403
    cross = requests.post(url, json={}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and "Access-Control-Allow-Origin" not in cross.headers
    same = requests.post(url, json={}, headers={"Origin": dashboard_server.url})
    assert same.status_code == 200


def test_oversized_json_body_gets_mlflow_413(dashboard_server):
    from kernelflow_dashboard.api.base import MAX_JSON_BYTES

    url = dashboard_server.url + "/api/2.0/mlflow/experiments/create"
    resp = requests.post(url, data=b"{" + b" " * (70 * 1024 * 1024) + b"}",
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.content[:200]
    body = resp.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert str(MAX_JSON_BYTES) in body["message"] and "too large" in body["message"]


def test_oversized_chunked_json_body_gets_mlflow_413(dashboard_server):
    from kernelflow_dashboard.api.base import MAX_JSON_BYTES

    chunk = b" " * (1024 * 1024)
    body = (b"{" if i == 0 else chunk for i in range(MAX_JSON_BYTES // len(chunk) + 3))
    resp = requests.post(dashboard_server.url + "/api/2.0/mlflow/experiments/create", data=body)
    assert resp.status_code == 413 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("endpoint, params", [
    (ART, {"path": "/etc"}),
    ("/api/2.0/mlflow/artifacts/list", {"run_id": "RUN", "path": "/etc"}),
])
def test_listing_an_absolute_path_is_400(dashboard_server, endpoint, params):
    if params.get("run_id"):
        exp = requests.post(dashboard_server.url + "/api/2.0/mlflow/experiments/create",
                            json={"name": "abs-list"}).json()["experiment_id"]
        params["run_id"] = requests.post(
            dashboard_server.url + "/api/2.0/mlflow/runs/create",
            json={"experiment_id": exp}).json()["run"]["info"]["run_id"]
    resp = requests.get(dashboard_server.url + endpoint, params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_artifact_upload_size_limit(make_server):
    server = make_server(api_only=True, env={"KERNELFLOW_MAX_ARTIFACT_BYTES": "1000"})
    url = f"{server.url}{ART}/big/blob.bin"
    assert requests.put(f"{server.url}{ART}/big/small.bin", data=b"x" * 1000).status_code == 200
    try:
        resp = requests.put(url, data=b"x" * 5000)
        assert resp.status_code == 413 and "too large" in resp.json()["message"]
    except requests.ConnectionError:
        pass  # refused before the body was read: the server closed the connection
    chunked = (b"x" * 600 for _ in range(3))  # no Content-Length: counted while streaming
    try:
        assert requests.put(url, data=chunked).status_code in (400, 413)
    except requests.ConnectionError:
        pass
    folder = server.artifact_root / "big"
    deadline = time.monotonic() + 5  # a dropped connection's temp file goes when Tornado sees it
    while len(list(folder.iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in folder.iterdir()) == ["small.bin"]  # no partial upload left


def test_allowed_origins_let_a_proxy_in(make_server):
    server = make_server(api_only=True, env={"KERNELFLOW_ALLOWED_ORIGINS": "hub.example.org"})
    url = server.url + "/api/2.0/mlflow/experiments/search"
    proxied = {"Host": "hub.example.org", "Origin": "https://hub.example.org"}
    assert requests.post(url, json={}, headers=proxied).status_code == 200
    assert requests.post(url, json={}, headers={"Host": "evil.example"}).status_code == 403


@pytest.mark.parametrize("path", ["/", "/runs", "/run?id=x", "/models", "/runs/ws",
                                  "/static/js/bokeh.min.js"])
def test_ui_pages_refuse_a_foreign_host(dashboard_server, path):
    resp = requests.get(dashboard_server.url + path, headers={"Host": "evil.com"},
                        allow_redirects=False)
    assert resp.status_code == 403, resp.status_code
    assert resp.json()["error_code"] == "PERMISSION_DENIED" and "evil.com" in resp.json()["message"]


def test_ui_pages_answer_loopback_hosts(dashboard_server):
    port = urlparse(dashboard_server.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert requests.get(dashboard_server.url + "/runs", headers={"Host": host}).status_code == 200
    assert requests.get(dashboard_server.url + "/health", headers={"Host": "evil.com"}).text == "OK"
