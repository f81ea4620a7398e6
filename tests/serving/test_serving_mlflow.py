"""Side by side with ``mlflow models serve``: the same model, the same payloads, the same answers.

MLflow serves the registered version's directory (kernelflow writes MLflow's layout);
kernelflow serves ``models:/clf/1`` on Ray Serve. Status codes must match for every
payload, and bodies must match exactly, except where the message comes from each
tool's own signature check: there the error code must match and both must name the
offending column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from serving_helpers import free_port, wait_for

import kernelflow

pytestmark = [pytest.mark.mlflow, pytest.mark.ray, pytest.mark.slow]

SPLIT = {"dataframe_split": {"columns": ["a", "b"], "data": [[0.1, 0.9], [0.9, 0.1]]}}
RECORDS = [{"a": 0.1, "b": 0.9}, {"a": 0.9, "b": 0.1}]
JSON = "application/json"

# (case, body, content type, what must match: "body" exactly, or a column both must name)
CASES = [
    ("split", json.dumps(SPLIT), JSON, "body"),
    ("records", json.dumps({"dataframe_records": RECORDS}), JSON, "body"),
    ("instances", json.dumps({"instances": RECORDS}), JSON, "body"),
    ("inputs", json.dumps({"inputs": {"a": [0.1, 0.9], "b": [0.9, 0.1]}}), JSON, "body"),
    ("csv", "a,b\n0.1,0.9\n0.9,0.1\n", "text/csv", "body"),
    ("json with charset", json.dumps(SPLIT), "application/json; charset=UTF-8", "body"),
    ("missing column", json.dumps({"dataframe_records": [{"a": 0.1}]}), JSON, "b"),
    ("mistyped column", json.dumps({"dataframe_records": [{"a": "high", "b": 0.5}]}), JSON,
     "a"),
    ("not json", "not json", JSON, "body"),
    ("a list", "[1, 2]", JSON, "body"),
    ("no format key", json.dumps({"data": [[1, 2]]}), JSON, "body"),
    ("two format keys", json.dumps({"inputs": [[1, 2]], "instances": [[1, 2]]}), JSON, "body"),
    ("split as a list", json.dumps({"dataframe_split": [[1, 2]]}), JSON, "body"),
    ("records as a dict", json.dumps({"dataframe_records": {"a": 1}}), JSON, "body"),
    ("split with extra keys", json.dumps({"dataframe_split": {"rows": [1]}}), JSON, "body"),
    ("xml", "<a/>", "application/xml", "body"),
    ("latin-1", json.dumps(SPLIT), "application/json; charset=latin-1", "body"),
    ("unknown content parameter", json.dumps(SPLIT), "application/json; format=split", "body"),
]


@pytest.fixture(scope="module")
def servers(registry, ray_instance):
    from kernelflow_serving import serve

    source = kernelflow.Client(registry).get_model_version_download_uri("clf", "1")
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": "", "PYTHONWARNINGS": "ignore"}
    mlflow_proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", source, "-p", str(port),
         "-h", "127.0.0.1", "--env-manager", "local"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    handle = serve("models:/clf/1", name="side-by-side", port=free_port(),
                   tracking_uri=registry, replica_cpus=0.1)
    mlflow_url = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return requests.get(mlflow_url + "/ping", timeout=2).status_code == 200
            except requests.RequestException:
                return mlflow_proc.poll() is not None  # exited: fail below, not by timeout

        wait_for(up, timeout=120, interval=0.3)
        assert mlflow_proc.poll() is None, "mlflow models serve exited"
        yield mlflow_url, handle.url
    finally:
        mlflow_proc.terminate()
        mlflow_proc.wait(30)
        handle.stop()


def answer(url, body, content_type):
    resp = requests.post(url + "/invocations", data=body.encode(),
                         headers={"Content-Type": content_type}, timeout=60)
    return resp.status_code, resp.text, resp.headers.get("content-type", "")


@pytest.mark.parametrize("case, body, content_type, match", CASES, ids=[c[0] for c in CASES])
def test_the_same_answer_as_mlflow_models_serve(servers, case, body, content_type, match):
    mlflow_url, kf_url = servers
    m_status, m_text, m_type = answer(mlflow_url, body, content_type)
    k_status, k_text, k_type = answer(kf_url, body, content_type)
    assert k_status == m_status, (m_text, k_text)
    if match == "body":
        if m_type.startswith(JSON):
            assert json.loads(k_text) == json.loads(m_text)
        else:
            assert k_text == m_text
        return
    m_body, k_body = json.loads(m_text), json.loads(k_text)
    assert k_body["error_code"] == m_body["error_code"]
    assert set(k_body) == {"error_code", "message"}
    assert f"'{match}'" in k_body["message"] or f'"{match}"' in k_body["message"]
    assert match in m_body["message"]


def test_ping_and_health_match(servers):
    mlflow_url, kf_url = servers
    for path in ("/ping", "/health"):
        m = requests.get(mlflow_url + path, timeout=10)
        k = requests.get(kf_url + path, timeout=10)
        assert (k.status_code, k.text) == (m.status_code, m.text)
