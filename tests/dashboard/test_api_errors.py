"""MLflow's error format and status codes, and the plain endpoints, over raw HTTP."""

from __future__ import annotations

import pytest
import requests

from kernelflow_dashboard.api.version import MLFLOW_API_VERSION

API = "/api/2.0/mlflow"


def call(server, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}{API}/{endpoint}", timeout=30, **kwargs)


def test_health_and_version(dashboard_server):
    import kernelflow

    assert requests.get(dashboard_server.url + "/health").text == "OK"
    version = requests.get(dashboard_server.url + "/version")
    # MLflow's client reads /version as an MLflow release; kernelflow's own is in a header.
    assert version.text == MLFLOW_API_VERSION
    assert version.headers["X-Kernelflow-Version"] == kernelflow.__version__


@pytest.mark.parametrize("method, endpoint, kwargs, status, code", [
    ("GET", "experiments/get", {"params": {"experiment_id": "999"}}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "experiments/get-by-name", {"params": {"experiment_name": "nope"}}, 404,
     "RESOURCE_DOES_NOT_EXIST"),
    ("GET", "experiments/get", {}, 400, "INVALID_PARAMETER_VALUE"),
    ("GET", "runs/get", {"params": {"run_id": "f" * 32}}, 404, "RESOURCE_DOES_NOT_EXIST"),
    ("POST", "experiments/create", {"json": {"name": "Default"}}, 400, "RESOURCE_ALREADY_EXISTS"),
    ("POST", "experiments/create", {"data": "{oops"}, 400, "MALFORMED_REQUEST"),
    ("POST", "runs/search", {"json": {"experiment_ids": ["0"], "filter": "metrics.a >>> 1"}}, 400,
     "INVALID_PARAMETER_VALUE"),
    ("POST", "runs/search", {"json": {"experiment_ids": ["0"], "page_token": "garbage"}}, 400,
     "INVALID_PARAMETER_VALUE"),
    ("POST", "runs/log-batch", {"json": {"run_id": "x", "params": [
        {"key": f"p{i}", "value": "v"} for i in range(101)]}}, 400, "INVALID_PARAMETER_VALUE"),
    ("POST", "runs/log-batch", {"json": {"run_id": "x", "metrics": [
        {"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]}}, 400,
     "INVALID_PARAMETER_VALUE"),
    ("GET", "experiments/create", {}, 405, "ENDPOINT_NOT_FOUND"),
    ("GET", "no/such/endpoint", {}, 404, "ENDPOINT_NOT_FOUND"),
    ("GET", "registered-models/get", {"params": {"name": "ghost"}}, 404, "RESOURCE_DOES_NOT_EXIST"),
])
def test_errors_have_mlflow_shape(dashboard_server, method, endpoint, kwargs, status, code):
    resp = call(dashboard_server, method, endpoint, **kwargs)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error_code"] == code and body["message"]
    assert resp.headers["Content-Type"].startswith("application/json")


def test_logging_to_a_deleted_run_is_refused(dashboard_server):
    exp = call(dashboard_server, "POST", "experiments/create", json={"name": "errs"}).json()
    run = call(dashboard_server, "POST", "runs/create",
               json={"experiment_id": exp["experiment_id"]}).json()["run"]
    rid = run["info"]["run_id"]
    assert call(dashboard_server, "POST", "runs/delete", json={"run_id": rid}).ok
    resp = call(dashboard_server, "POST", "runs/log-metric",
                json={"run_id": rid, "key": "m", "value": 1, "timestamp": 1})
    assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_STATE"


def test_ajax_prefix_and_run_json_shape(dashboard_server):
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": "shape"}).json()["experiment_id"]
    run = call(dashboard_server, "POST", "runs/create", json={
        "experiment_id": exp_id, "run_name": "r", "tags": [{"key": "t", "value": "v"}]}).json()
    rid = run["run"]["info"]["run_id"]
    call(dashboard_server, "POST", "runs/log-batch", json={"run_id": rid, "metrics": [
        {"key": "m", "value": "NaN", "timestamp": 5, "step": 1}]})
    got = requests.get(f"{dashboard_server.url}/ajax-api/2.0/mlflow/runs/get",
                       params={"run_id": rid}).json()["run"]
    assert got["info"]["run_uuid"] == rid and got["info"]["status"] == "RUNNING"
    assert got["info"]["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{rid}/artifacts"
    assert {"key": "t", "value": "v"} in got["data"]["tags"]
    assert got["data"]["metrics"][0]["value"] == "NaN"


def test_history_paging_and_bulk_interval(dashboard_server):
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": "bulk"}).json()["experiment_id"]
    rids = []
    for _ in range(2):
        rid = call(dashboard_server, "POST", "runs/create",
                   json={"experiment_id": exp_id}).json()["run"]["info"]["run_id"]
        call(dashboard_server, "POST", "runs/log-batch", json={"run_id": rid, "metrics": [
            {"key": "loss", "value": s / 10, "timestamp": s, "step": s} for s in range(1000)]})
        rids.append(rid)
    page = call(dashboard_server, "GET", "metrics/get-history",
                params={"run_id": rids[0], "metric_key": "loss", "max_results": 600}).json()
    rest = call(dashboard_server, "GET", "metrics/get-history", params={
        "run_id": rids[0], "metric_key": "loss", "page_token": page["next_page_token"]}).json()
    assert len(page["metrics"]) == 600 and len(rest["metrics"]) == 400
    assert "next_page_token" not in rest
    sampled = call(dashboard_server, "GET", "metrics/get-history-bulk-interval", params={
        "run_ids": rids, "metric_key": "loss", "max_results": 50, "start_step": 100,
        "end_step": 899}).json()["metrics"]
    for rid in rids:
        steps = [m["step"] for m in sampled if m["run_id"] == rid]
        assert len(steps) == 50 and steps[0] == 100 and steps[-1] == 899


def test_changed_param_from_another_process_is_a_400(dashboard_server):
    import kernelflow

    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": "param-race"}).json()["experiment_id"]
    rid = call(dashboard_server, "POST", "runs/create",
               json={"experiment_id": exp_id}).json()["run"]["info"]["run_id"]
    assert call(dashboard_server, "POST", "runs/log-parameter",
                json={"run_id": rid, "key": "other", "value": "1"}).ok
    kernelflow.Client(dashboard_server.db_uri).log_param(rid, "lr", "0.1", synchronous=True)
    resp = call(dashboard_server, "POST", "runs/log-parameter",
                json={"run_id": rid, "key": "lr", "value": "0.2"})
    assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_run_artifact_list_and_get_artifact(dashboard_server):
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": "run-artifacts"}).json()["experiment_id"]
    info = call(dashboard_server, "POST", "runs/create",
                json={"experiment_id": exp_id}).json()["run"]["info"]
    rel = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    art = f"{dashboard_server.url}/api/2.0/mlflow-artifacts/artifacts/{rel}"
    assert requests.put(f"{art}/plots/a.csv", data=b"x,y\n1,2\n").ok
    listing = call(dashboard_server, "GET", "artifacts/list",
                   params={"run_id": info["run_id"], "path": "plots"}).json()
    assert listing["files"] == [{"path": "plots/a.csv", "is_dir": False, "file_size": 8}]
    got = requests.get(f"{dashboard_server.url}/get-artifact",
                       params={"run_id": info["run_id"], "path": "plots/a.csv"})
    assert got.content == b"x,y\n1,2\n"
    escape = requests.get(f"{dashboard_server.url}/get-artifact",
                          params={"run_id": info["run_id"], "path": "../../../x"})
    assert escape.status_code == 400
