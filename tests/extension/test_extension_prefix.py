"""``kernelflow ui --prefix``: every route under one path, as JupyterLab's proxy forwards it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import urljoin

import pytest
import requests

from kernelflow.errors import InvalidParameterError
from kernelflow_dashboard.server import url_prefix


@pytest.mark.parametrize("raw, clean", [
    ("", ""), ("/", ""), (None, ""), ("kernelflow", "/kernelflow"),
    ("/user/ann/kernelflow/", "/user/ann/kernelflow"), ("//a//b/", "/a/b"),
])
def test_prefixes_are_normalised(raw, clean):
    assert url_prefix(raw) == clean


def test_a_prefix_cannot_climb_out():
    with pytest.raises(InvalidParameterError, match="--prefix"):
        url_prefix("/a/../b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prefixed(tmp_path, api_only: bool):
    port = free_port()
    env = {**os.environ, "KERNELFLOW_TOKEN": "tok"}
    if api_only:
        env["KERNELFLOW_DASHBOARD_API_ONLY"] = "1"
    cmd = [sys.executable, "-m", "kernelflow", "ui", "--port", str(port), "--store",
           f"sqlite:///{tmp_path / 'kernelflow.db'}", "--prefix", "/user/ann/kernelflow/",
           "--allowed-hosts", "*"]
    log = open(tmp_path / "ui.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "ui.log").read_text()
        try:
            if requests.get(url + "/user/ann/kernelflow/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    return url, proc, log


@pytest.fixture
def prefixed_server(tmp_path):
    """`kernelflow ui --prefix /user/ann/kernelflow` (REST API only: it starts fast)."""
    url, proc, log = start_prefixed(tmp_path, api_only=True)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def prefixed_pages(tmp_path):
    """The same with the Panel pages."""
    url, proc, log = start_prefixed(tmp_path, api_only=False)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def test_every_route_is_under_the_prefix(prefixed_server):
    auth = {"Authorization": "Bearer tok", "Host": "lab.example.org:8888"}
    api = "/user/ann/kernelflow/api/2.0/mlflow/experiments/search?max_results=5"
    answer = requests.get(prefixed_server + api, headers=auth, timeout=10)
    assert answer.status_code == 200
    assert [e["name"] for e in answer.json()["experiments"]] == ["Default"]
    # nothing is served outside it
    assert requests.get(prefixed_server + "/api/2.0/mlflow/experiments/search?max_results=5",
                        headers=auth, timeout=10).status_code == 404
    # the token is still required under the prefix (the proxy adds it; nobody else has it)
    assert requests.get(prefixed_server + api, headers={"Host": "lab.example.org:8888"},
                        timeout=10).status_code == 401


@pytest.mark.slow
def test_pages_and_the_sign_in_redirect_stay_under_the_prefix(prefixed_pages):
    host = {"Host": "lab.example.org:8888"}
    page = requests.get(prefixed_pages + "/user/ann/kernelflow/runs", headers=host,
                        allow_redirects=False, timeout=30)
    assert page.status_code == 302
    login = urljoin("/user/ann/kernelflow/runs", page.headers["Location"])
    assert login.startswith("/user/ann/kernelflow/login?next=")
    session = requests.Session()
    signed_in = session.post(prefixed_pages + login, data={"token": "tok"},
                             headers=host, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/user/ann/kernelflow/runs"
    shown = session.get(prefixed_pages + "/user/ann/kernelflow/runs", headers=host, timeout=60)
    assert shown.status_code == 200 and "<title>kernelflow</title>" in shown.text
    # scripts and styles are addressed relative to the page, so under the prefix too
    links = re.findall(r'(?:src|href)="([^"]+)"', shown.text)
    assert any(link.startswith("static/js/bokeh") for link in links), links
    assert [link for link in links if link.startswith("/")] == []
