"""``kernelflow gateway --ray``: the same app as a Ray Serve deployment with replicas."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import pytest
from gateway_helpers import free_port

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_the_gateway_on_ray_serve(fake, tmp_path, tracking_uri, client):
    pytest.importorskip("ray.serve")
    config = tmp_path / "gateway.yaml"
    config.write_text("model_list:\n  - model_name: chat\n    litellm_params: "
                      f"{{model: openai/gpt-4o-mini, api_base: '{fake.url}/v1', api_key: k}}\n")
    port = free_port()
    ray_tmp = tempfile.mkdtemp(prefix="kfg", dir="/tmp")  # Ray's socket paths must be short
    env = {**os.environ, "KERNELFLOW_TRACKING_URI": tracking_uri, "RAY_TMPDIR": ray_tmp}
    log = tmp_path / "gateway.log"
    proc = subprocess.Popen([sys.executable, "-m", "kernelflow", "gateway", "--ray", "--workers",
                             "2", "--config", str(config), "--port", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                r = httpx.post(url + "/v1/chat/completions", timeout=30, json={
                    "model": "chat", "messages": [{"role": "user", "content": "on ray"}]})
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert r.json()["choices"][0]["message"]["content"] == "echo: on ray"
        assert [m["id"] for m in httpx.get(url + "/v1/models").json()["data"]] == ["chat"]

        def recorded():
            return any(c["route"] == "chat" for c in client.search_gateway_calls())
        deadline = time.monotonic() + 60
        while not recorded() or "on Ray Serve at" not in log.read_text():  # all replicas up
            assert time.monotonic() < deadline, "the replicas recorded no call"
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=90) == 0, log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            shutil.rmtree(ray_tmp, ignore_errors=True)
