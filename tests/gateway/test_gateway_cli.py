"""``kernelflow gateway`` as users run it: a real process, config reload on change and on
SIGHUP, ``--workers`` sharing limits through the store, and a bad config refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from gateway_helpers import free_port

pytestmark = pytest.mark.slow


def _yaml(fake, names, extra=""):
    routes = "".join(f"  - model_name: {n}\n    litellm_params: {{model: openai/gpt-4o-mini, "
                     f"api_base: '{fake.url}/v1', api_key: sk-test}}\n" for n in names)
    return "model_list:\n" + routes + extra


def _start(config, tracking_uri, *extra):
    port = free_port()
    env = {**os.environ, "KERNELFLOW_TRACKING_URI": tracking_uri}
    proc = subprocess.Popen([sys.executable, "-m", "kernelflow", "gateway", "--config",
                             str(config), "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(proc.stdout.read().decode())
        time.sleep(0.2)


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _models(url):
    return [m["id"] for m in httpx.get(url + "/v1/models").json()["data"]]


def _wait_for(check, seconds=15):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_serve_and_reload(fake, tmp_path, tracking_uri, client):
    config = tmp_path / "gateway.yaml"
    config.write_text(_yaml(fake, ["chat"]))
    proc, url = _start(config, tracking_uri)
    try:
        r = httpx.post(url + "/v1/chat/completions", json={
            "model": "chat", "messages": [{"role": "user", "content": "cli"}]})
        assert r.json()["choices"][0]["message"]["content"] == "echo: cli"

        def traced():  # the gateway's process sends its traces to the 'gateway' experiment
            exp = client.get_experiment_by_name("gateway")
            return exp is not None and len(client.search_traces([exp.experiment_id])) == 1
        _wait_for(traced)
        config.write_text(_yaml(fake, ["chat", "added"]))  # picked up on change
        _wait_for(lambda: "added" in _models(url))
        config.write_text("model_list: [{model_name: broken}]")  # a bad edit keeps the old one
        time.sleep(2.5)
        assert _models(url) == ["chat", "added"]
        # the watcher sees a change per mtime; SIGHUP reloads at once, whatever the mtime
        config.write_text(_yaml(fake, ["hup"]))
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: _models(url) == ["hup"])
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_workers_share_rate_limits(fake, tmp_path, tracking_uri, client):
    config = tmp_path / "gateway.yaml"
    config.write_text(_yaml(fake, ["chat"]))
    key = client.create_gateway_key("shared", rpm=3)
    proc, url = _start(config, tracking_uri, "--workers", "2")
    try:
        statuses = []
        for _ in range(6):  # new connections, so both workers get requests
            statuses.append(httpx.post(url + "/v1/chat/completions", headers={
                "Authorization": f"Bearer {key.key}", "Connection": "close"}, json={
                "model": "chat", "messages": [{"role": "user", "content": "w"}]}).status_code)
        if int(time.time()) % 60 < 1:  # a new minute began mid-way: the count restarted
            pytest.skip("crossed a minute boundary")
        assert statuses.count(200) == 3 and statuses.count(429) == 3
    finally:
        _stop(proc)


def test_a_bad_config_is_refused_with_the_field(tmp_path, tracking_uri):
    config = tmp_path / "gateway.yaml"
    config.write_text("model_list: [{model_name: a, litellm_params: {model: openai/x, "
                      "api_key: os.environ/KF_SURELY_UNSET}}]")
    done = subprocess.run([sys.executable, "-m", "kernelflow", "gateway", "--config",
                           str(config)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "model_list[0].litellm_params.api_key" in done.stderr
    assert "KF_SURELY_UNSET" in done.stderr and "Traceback" not in done.stderr
