"""Serving over real HTTP on a real Ray Serve: MLflow's protocol (side by side with
``mlflow models serve``), headers, hot-swap, batching, tracing, faults.

One Ray instance and two applications are shared by the whole module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import requests
from serving_helpers import free_port, wait_for

import kernelflow

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROWS = [[0.1, 0.9], [0.9, 0.1], [0.5, 0.4]]


@pytest.fixture(scope="module")
def clf(registry, ray_instance):
    from kernelflow_serving import serve

    handle = serve("models:/clf@champion", port=free_port(), tracking_uri=registry,
                   poll_interval=0.3, replica_cpus=0.1)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def multi(clf, registry):
    """``boom`` and ``scaler`` in one application, beside ``clf`` on the same port."""
    from kernelflow_serving import serve

    handle = serve(["boom/1", "models:/scaler/latest"], name="multi", host="127.0.0.1",
                   port=free_port(), tracking_uri=registry, timeout=1.5,
                   max_body_mb=0.01, replica_cpus=0.1, trace=True)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def pooled(clf, registry):
    """``clf/1``, ``boom/1`` and ``scaler/1`` multiplexed: one pool replica holding at most 2."""
    from kernelflow_serving import serve

    handle = serve(["models:/clf/1", "boom/1", "scaler/1"], name="pooled", port=free_port(),
                   tracking_uri=registry, max_models_per_replica=2, replica_cpus=0.1,
                   trace=True)
    yield handle
    handle.stop()


def post(url, payload=None, data=None, content_type="application/json"):
    body = json.dumps(payload) if payload is not None else data
    return requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=30)


def expected(registry):
    kernelflow.set_tracking_uri(registry)
    model = kernelflow.load_model("models:/clf/1")
    return model.predict(pd.DataFrame(ROWS, columns=["a", "b"])).tolist()


def test_every_input_format_gives_the_same_predictions(clf, registry):
    want = expected(registry)
    url = clf.url + "/invocations"
    records = [{"a": a, "b": b} for a, b in ROWS]
    payloads = [
        {"dataframe_split": {"columns": ["a", "b"], "data": ROWS}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": {"a": [r[0] for r in ROWS], "b": [r[1] for r in ROWS]}},
    ]
    for payload in payloads:
        resp = post(url, payload)
        assert resp.status_code == 200, (payload, resp.text)
        assert resp.json() == {"predictions": want}, payload
    csv = pd.DataFrame(ROWS, columns=["a", "b"]).to_csv(index=False)
    resp = post(url, data=csv, content_type="text/csv")
    assert resp.status_code == 200 and resp.json() == {"predictions": want}
    assert clf.predict(pd.DataFrame(ROWS, columns=["a", "b"])) == want


def test_ping_health_version_and_model_headers(clf):
    for path in ("/ping", "/health"):
        resp = requests.get(clf.url + path, timeout=10)
        assert resp.status_code == 200 and resp.text == "\n"
    assert requests.get(clf.url + "/version", timeout=10).text == kernelflow.__version__
    resp = post(clf.url + "/invocations", {"dataframe_split": {"columns": ["a", "b"],
                                                                "data": ROWS}})
    assert resp.headers["X-Kernelflow-Model-Name"] == "clf"
    assert resp.headers["X-Kernelflow-Model-Alias"] == "champion"
    assert resp.headers["X-Kernelflow-Model-Version"] in ("1", "2")
    assert requests.get(clf.url + "/invocations", timeout=10).status_code == 405
    assert requests.get(clf.url + "/nowhere", timeout=10).status_code == 404


@pytest.mark.parametrize("data, content_type, status, fragment", [
    ('{"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}', "application/json", 400,
     "'b'"),
    ('{"dataframe_records": [{"a": "high", "b": 0.5}]}', "application/json", 400, "column a"),
    ("not json", "application/json", 400, "valid JSON"),
    ("[1, 2]", "application/json", 400, "Received a list"),
    ('{"data": [[1, 2]]}', "application/json", 400, "exactly one of the input fields"),
    ('{"inputs": [[1, 2]], "instances": [[1, 2]]}', "application/json", 400,
     "exactly one of the input fields"),
    ('{"dataframe_split": [[1, 2]]}', "application/json", 400, "must be a dictionary"),
    ("a,b\n1,2\n", "text/plain", 415, "only supports the following content types"),
    ('{"inputs": [[1, 2]]}', "application/json; charset=latin-1", 415, "UTF-8"),
])
def test_bad_payloads_get_mlflow_errors(clf, data, content_type, status, fragment):
    resp = post(clf.url + "/invocations", data=data, content_type=content_type)
    assert resp.status_code == status, resp.text
    assert fragment in resp.text
    if status == 400:
        body = resp.json()
        assert body["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")
        assert set(body) == {"error_code", "message", "sqlstate", "error_class"}


def test_the_deployment_is_recorded_in_the_store(clf, registry):
    dep = kernelflow.Client(registry).get_deployment("clf")
    assert (dep.status, dep.model_uri, dep.model_name, dep.alias, dep.url) == (
        "RUNNING", "models:/clf@champion", "clf", "champion", clf.url)
    assert dep.model_version in ("1", "2") and dep.replicas == "1"
    assert clf.status()["serve_status"].endswith("RUNNING")


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(clf, registry):
    kernelflow.set_tracking_uri(registry)
    model = kernelflow.load_model("models:/clf/1")
    frames = [pd.DataFrame([[i / 40, 1 - i / 40]], columns=["a", "b"]) for i in range(40)]
    want = [model.predict(f).tolist() for f in frames]

    def ask(frame):
        payload = {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
        return post(clf.url + "/invocations", payload).json()["predictions"]

    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(ask, frames))
    assert got == want


def test_the_alias_moves_and_no_request_fails(clf, registry):
    client = kernelflow.Client(registry)
    client.set_registered_model_alias("clf", "champion", 1)
    wait_for(lambda: post(clf.url + "/invocations", {"inputs": {"a": [0.1], "b": [0.2]}})
             .headers["X-Kernelflow-Model-Version"] == "1")
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def loop():
        with requests.Session() as s:
            while not stop.is_set():
                r = s.post(clf.url + "/invocations", json={"inputs": {"a": [0.1], "b": [0.2]}},
                           timeout=30)
                seen.append((r.status_code, r.headers.get("X-Kernelflow-Model-Version")))

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        time.sleep(0.3)
        client.set_registered_model_alias("clf", "champion", 2)
        wait_for(lambda: seen and seen[-1][1] == "2", timeout=20)
        assert client.get_deployment("clf").model_version == "2"
        client.set_registered_model_alias("clf", "champion", 1)  # rolling back
        wait_for(lambda: seen[-1][1] == "1", timeout=20)
    finally:
        stop.set()
        worker.join()
    assert {status for status, _ in seen} == {200}
    versions = [v for _, v in seen]
    changes = [v for i, v in enumerate(versions) if i == 0 or v != versions[i - 1]]
    assert changes == ["1", "2", "1"]
    wait_for(lambda: client.get_deployment("clf").model_version == "1")


def test_several_models_in_one_application(multi):
    resp = post(multi.url + "/models/boom/invocations", {"inputs": {"x": [1.0, 2.5]}})
    assert resp.status_code == 200 and resp.json() == {"predictions": [2.0, 5.0]}
    assert resp.headers["X-Kernelflow-Model-Name"] == "boom"
    resp = post(multi.url + "/models/scaler/invocations",
                {"dataframe_records": [{"x": 2.0}], "params": {"factor": 3.0}})
    assert resp.json() == {"predictions": [6.0]}
    assert resp.headers["X-Kernelflow-Model-Alias"] == "latest"
    resp = post(multi.url + "/invocations", {"inputs": {"x": [1.0]}})
    assert resp.status_code == 404 and "boom" in resp.json()["message"]
    assert post(multi.url + "/models/nope/invocations", {"inputs": [1]}).status_code == 404
    assert multi.predict(pd.DataFrame({"x": [4.0]}), model="boom") == [8.0]


def test_predict_raising_and_bad_params_are_mlflow_errors(multi):
    resp = post(multi.url + "/models/boom/invocations", {"inputs": {"x": [-1.0]}})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error_code"] == "BAD_REQUEST"
    assert "boom: x must not be negative" in body["message"]
    resp = post(multi.url + "/models/scaler/invocations",
                {"inputs": {"x": [1.0]}, "params": {"speed": 2}})
    assert resp.status_code == 400 and "'speed'" in resp.json()["message"]


def test_with_tracing_each_request_is_a_trace_continuing_the_callers(multi, registry):
    trace_hex = "4bf92f3577b34da6a3ce929d0e0e4736"
    resp = requests.post(multi.url + "/models/boom/invocations", json={"inputs": {"x": [-3.0]}},
                         headers={"traceparent": f"00-{trace_hex}-00f067aa0ba902b7-01"},
                         timeout=30)
    assert resp.status_code == 400
    client = kernelflow.Client(registry)
    trace = wait_for(lambda: _trace(client, f"tr-{trace_hex}"), timeout=30)
    (span,) = trace.data.spans
    assert span.name == "multi/invocations" and trace.info.state == "ERROR"
    assert span.attributes["model.name"] == "boom" and span.attributes["http.status_code"] == 400
    assert "boom: x must not be negative" in str(span.outputs)


def _trace(client, trace_id):
    try:
        return client.get_trace(trace_id)
    except kernelflow.KernelflowError:
        return None


def test_multiplexed_models_share_a_replica_within_its_lru_bound(pooled, registry):
    asks = {
        "clf": ({"dataframe_split": {"columns": ["a", "b"], "data": ROWS}}, expected(registry)),
        "boom": ({"inputs": {"x": [1.0, 2.5]}}, [2.0, 5.0]),
        "scaler": ({"inputs": {"x": [2.0]}, "params": {"factor": 3.0}}, [6.0]),
    }
    loaded, loads, replicas = [], [], set()
    for _ in range(3):  # round robin over 3 models, room for 2: every call evicts one
        for name, (payload, want) in asks.items():
            resp = post(f"{pooled.url}/models/{name}/invocations", payload)
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"predictions": want}, name
            assert resp.headers["X-Kernelflow-Model-Name"] == name
            loaded.append(int(resp.headers["X-Kernelflow-Replica-Models"]))
            loads.append(int(resp.headers["X-Kernelflow-Replica-Loads"]))
            replicas.add(resp.headers["X-Kernelflow-Replica"])
    assert len(replicas) == 1
    assert max(loaded) == 2  # the bound holds
    assert loads == sorted(loads) and loads[-1] - loads[0] >= 6  # evicted, loaded again
    for _ in range(3):  # boom is still held (scaler and boom were the last two): no load
        assert post(f"{pooled.url}/models/boom/invocations", asks["boom"][0]).headers[
            "X-Kernelflow-Replica-Loads"] == str(loads[-1])
    assert post(pooled.url + "/invocations", {"inputs": [1]}).status_code == 404
    assert post(pooled.url + "/models/nope/invocations", {"inputs": [1]}).status_code == 404
    resp = post(f"{pooled.url}/models/clf/invocations", {"dataframe_records": [{"a": 1}]})
    assert resp.status_code == 400 and "'b'" in resp.json()["message"]
    assert set(requests.get(pooled.url + "/models", timeout=10).json()) == set(asks)
    client = kernelflow.Client(registry)
    assert {client.get_deployment(f"pooled/{n}").status for n in asks} == {"RUNNING"}
    trace_hex = "5cf92f3577b34da6a3ce929d0e0e4736"
    resp = requests.post(pooled.url + "/models/boom/invocations", json={"inputs": {"x": [2.0]}},
                         headers={"traceparent": f"00-{trace_hex}-00f067aa0ba902b7-01"},
                         timeout=30)
    assert resp.status_code == 200
    trace = wait_for(lambda: _trace(client, f"tr-{trace_hex}"), timeout=30)
    (span,) = trace.data.spans
    assert span.name == "pooled/invocations" and span.attributes["model.name"] == "boom"
    assert span.attributes["model.version"] == "1" and "4.0" in str(span.outputs)


def test_a_moving_alias_reads_updating_while_the_new_version_loads(multi, registry):
    """``multi`` follows ``scaler/latest``; a new version that takes 2.5 s to load."""
    from serving_helpers import model_classes

    from kernelflow.models import infer_signature

    client = kernelflow.Client(registry)
    row = "multi/scaler"
    assert (client.get_deployment(row).status, client.get_deployment(row).model_version) == (
        "RUNNING", "1")
    kernelflow.set_tracking_uri(registry)
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    sig = infer_signature(frame, frame["x"], params={"factor": 1.0, "sleep": 0.0})
    with kernelflow.start_run():
        kernelflow.log_model(model_classes().SlowScaler(), "scaler", signature=sig,
                             registered_model_name="scaler")
    kernelflow.flush()
    seen, answers = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dep = client.get_deployment(row)
        seen.append((dep.status, dep.model_version))
        resp = post(multi.url + "/models/scaler/invocations", {"inputs": {"x": [2.0]}})
        answers.append((resp.status_code, resp.headers.get("X-Kernelflow-Model-Version")))
        if seen[-1] == ("RUNNING", "2"):
            break
        time.sleep(0.1)
    assert ("UPDATING", "1") in seen, seen
    assert seen[-1] == ("RUNNING", "2"), seen
    first_updating = seen.index(("UPDATING", "1"))
    assert all(s == "UPDATING" for s, _ in seen[first_updating:-1]), seen
    assert {status for status, _ in answers} == {200}  # version 1 served meanwhile
    wait_for(lambda: post(multi.url + "/models/scaler/invocations", {"inputs": {"x": [2.0]}})
             .headers["X-Kernelflow-Model-Version"] == "2", timeout=10)


def test_timeout_is_504_and_oversized_body_is_413(multi):
    resp = post(multi.url + "/models/scaler/invocations",
                {"inputs": {"x": [1.0]}, "params": {"sleep": 3.0}})
    assert resp.status_code == 504
    assert resp.json()["error_code"] == "DEADLINE_EXCEEDED"
    big = {"inputs": {"x": [1.0] * 5000}}
    resp = post(multi.url + "/models/scaler/invocations", big)
    assert resp.status_code == 413 and "at most" in resp.json()["message"]


# -- side by side with `mlflow models serve` ------------------------------------------------
# MLflow serves the registered version's directory (kernelflow writes MLflow's layout);
# kernelflow serves models:/clf/1 on the same Ray Serve as above. Status codes must match for
# every payload, and bodies must match exactly, except where the message comes from each
# tool's own signature check: there the error code must match and both must name the column.

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
     "body"),
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
def servers(registry, ray_instance, clf):
    from kernelflow_serving import serve

    source = kernelflow.Client(registry).get_model_version_download_uri("clf", "1")
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": "", "PYTHONWARNINGS": "ignore",
           # mlflow runs `uvicorn` from PATH
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
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


def same_sets(text):
    """MLflow prints the set of input fields in hash order, which differs per process."""
    return re.sub(r"\{(?:'(?:inputs|instances|dataframe_split|dataframe_records)'(?:, )?)+\}",
                  "{FORMATS}", text)


def answer(url, body, content_type):
    resp = requests.post(url + "/invocations", data=body.encode(),
                         headers={"Content-Type": content_type}, timeout=60)
    return resp.status_code, resp.text, resp.headers.get("content-type", "")


@pytest.mark.mlflow
@pytest.mark.parametrize("case, body, content_type, match", CASES, ids=[c[0] for c in CASES])
def test_the_same_answer_as_mlflow_models_serve(servers, case, body, content_type, match):
    mlflow_url, kf_url = servers
    m_status, m_text, m_type = answer(mlflow_url, body, content_type)
    k_status, k_text, k_type = answer(kf_url, body, content_type)
    assert k_status == m_status, (m_text, k_text)
    if match == "body":
        if m_type.startswith(JSON):
            assert json.loads(same_sets(k_text)) == json.loads(same_sets(m_text))
        else:
            assert k_text == m_text
        return
    m_body, k_body = json.loads(m_text), json.loads(k_text)
    assert (k_body["error_code"], k_body["error_class"]) == (m_body["error_code"],
                                                             m_body["error_class"])
    assert set(k_body) == set(m_body)
    assert f"'{match}'" in k_body["message"] or f'"{match}"' in k_body["message"]
    assert match in m_body["message"]


@pytest.mark.mlflow
def test_ping_and_health_match(servers):
    mlflow_url, kf_url = servers
    for path in ("/ping", "/health"):
        m = requests.get(mlflow_url + path, timeout=10)
        k = requests.get(kf_url + path, timeout=10)
        assert (k.status_code, k.text) == (m.status_code, m.text)


def test_a_model_that_fails_to_load_is_recorded_failed(registry, clf):
    from kernelflow_serving import serve

    with pytest.raises(kernelflow.KernelflowError, match="weights are corrupt"):
        serve("models:/broken/1", name="broken", port=free_port(),
              tracking_uri=registry, replica_cpus=0.1)
    dep = kernelflow.Client(registry).get_deployment("broken")
    assert dep.status == "FAILED" and "weights are corrupt" in dep.last_error


def test_a_killed_replica_is_restarted_and_requests_recover(clf, ray_instance):
    import ray

    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True)
                if "SERVE_REPLICA" in a["name"] and "clf" in a["name"]]
    assert len(replicas) == 1
    ray.kill(ray.get_actor(replicas[0]["name"], namespace=replicas[0]["namespace"]),
             no_restart=True)

    def answered():
        try:
            return post(clf.url + "/invocations",
                        {"inputs": {"a": [0.1], "b": [0.2]}}).status_code == 200
        except requests.RequestException:
            return False

    wait_for(answered, timeout=60, interval=0.5)


def test_stop_records_stopped_and_removes_the_application(registry, clf):
    from ray import serve as ray_serve

    from kernelflow_serving import serve

    handle = serve("scaler/1", name="short-lived", port=free_port(),
                   tracking_uri=registry,
                   replica_cpus=0.1)
    assert "short-lived" in ray_serve.status().applications
    handle.stop()
    assert kernelflow.Client(registry).get_deployment("short-lived").status == "STOPPED"
    assert "short-lived" not in ray_serve.status().applications
