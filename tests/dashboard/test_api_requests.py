"""Strict request parsing: a malformed field is a 400 naming the field, never a 500."""

from __future__ import annotations

import pytest
import requests

API = "/api/2.0/mlflow"


def call(server, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}{API}/{endpoint}", timeout=30, **kwargs)


@pytest.fixture(scope="module")
def run_id(dashboard_server) -> str:
    exp = call(dashboard_server, "POST", "experiments/create", json={"name": "strict"}).json()
    return call(dashboard_server, "POST", "runs/create",
                json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]


def _metric(**overrides) -> dict:
    return {"key": "m", "value": 1.0, "timestamp": 1, "step": 0, **overrides}


BAD = [
    ("runs/create", {"tags": "x"}, "'tags'"),
    ("runs/create", {"tags": [{"value": "x"}]}, "'tags[0].key'"),
    ("runs/create", {"tags": [{"key": "k", "value": 3}]}, "'tags[0].value'"),
    ("runs/create", {"start_time": "soon"}, "'start_time'"),
    ("runs/log-batch", {"metrics": ["x"]}, "'metrics[0]'"),
    ("runs/log-batch", {"metrics": {"key": "b"}}, "'metrics'"),
    ("runs/log-batch", {"metrics": [{"key": "b"}]}, "'metrics[0].value'"),
    ("runs/log-batch", {"metrics": [_metric(value="high")]}, "'metrics[0].value'"),
    ("runs/log-batch", {"metrics": [_metric(step="x")]}, "'metrics[0].step'"),
    ("runs/log-batch", {"metrics": [_metric(timestamp="abc")]}, "'metrics[0].timestamp'"),
    ("runs/log-batch", {"metrics": [_metric(step=2**63)]}, "'metrics[0].step'"),
    ("runs/log-batch", {"metrics": [_metric(timestamp=-(2**63) - 1)]}, "'metrics[0].timestamp'"),
    ("runs/log-batch", {"params": ["a"]}, "'params[0]'"),
    ("runs/log-batch", {"params": [{"key": "a", "value": 1}]}, "'params[0].value'"),
    ("runs/log-batch", {"tags": [{"key": ["k"], "value": "v"}]}, "'tags[0].key'"),
    ("runs/log-metric", _metric(step=1.5), "'step'"),
    ("runs/log-metric", _metric(value=True), "'value'"),
    ("runs/log-parameter", {"key": "p", "value": 1}, "'value'"),
    ("runs/log-parameter", {"key": "p", "value": None, "extra": 1}, None),
    ("runs/set-tag", {"key": "t", "value": {"a": 1}}, "'value'"),
    ("runs/log-inputs", {"datasets": [{"dataset": "x"}]}, "'datasets[0].dataset'"),
    ("runs/outputs", {"models": [{"model_id": "m-1", "step": "x"}]}, "'models[0].step'"),
]


@pytest.mark.parametrize("endpoint, body, field", BAD, ids=[f"{e}-{f}" for e, _, f in BAD])
def test_malformed_run_fields_are_400_naming_the_field(dashboard_server, run_id, endpoint,
                                                       body, field):
    if field is None:  # a null value is an absent one: accepted (MLflow's client sends nulls)
        resp = call(dashboard_server, "POST", endpoint, json={"run_id": run_id, **body})
        assert resp.status_code == 200, resp.text
        return
    resp = call(dashboard_server, "POST", endpoint, json={"run_id": run_id, **body})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert field in resp.json()["message"], resp.json()["message"]


@pytest.mark.parametrize("method, endpoint, kwargs, field", [
    ("POST", "experiments/create", {"json": {"name": 5}}, "'name'"),
    ("POST", "experiments/create", {"json": {"name": "e", "tags": [{"key": 1}]}}, "'tags[0].key'"),
    ("POST", "experiments/search", {"json": {"max_results": "many"}}, "'max_results'"),
    ("POST", "runs/search", {"json": {"experiment_ids": "0"}}, "'experiment_ids'"),
    ("POST", "runs/search", {"json": {"experiment_ids": [0]}}, "'experiment_ids[0]'"),
    ("POST", "runs/search", {"json": {"experiment_ids": ["0"], "max_results": -1}},
     "between 1 and 50000"),
    ("GET", "metrics/get-history", {"params": {"run_id": "r", "metric_key": "m",
                                               "max_results": "x"}}, "'max_results'"),
    ("GET", "experiments/get", {"params": [("experiment_id", "0"), ("experiment_id", "1")]},
     "'experiment_id'"),
    ("POST", "registered-models/create", {"json": {"name": "n", "tags": [{"key": "k",
                                                                          "value": 1}]}},
     "'tags[0].value'"),
    ("POST", "model-versions/transition-stage", {"json": {
        "name": "n", "version": "1", "stage": "Staging", "archive_existing_versions": "maybe"}},
     "'archive_existing_versions'"),
    ("POST", "logged-models/search", {"json": {"experiment_ids": ["0"], "order_by": ["name"]}},
     "'order_by[0]'"),
])
def test_malformed_fields_elsewhere_are_400_naming_the_field(dashboard_server, method, endpoint,
                                                             kwargs, field):
    resp = call(dashboard_server, method, endpoint, **kwargs)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert field in resp.json()["message"], resp.json()["message"]


def test_steps_beyond_exact_range_are_400(dashboard_server, run_id):
    resp = call(dashboard_server, "POST", "runs/log-batch",
                json={"run_id": run_id, "metrics": [_metric(step=2**60)]})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_protobuf_json_forms_are_accepted(dashboard_server, run_id):
    """Whole numbers as strings and "NaN" values, as protobuf's JSON allows."""
    resp = call(dashboard_server, "POST", "runs/log-batch", json={"run_id": run_id, "metrics": [
        _metric(key="s", value="NaN", timestamp="5", step="7")]})
    assert resp.status_code == 200, resp.text
    got = call(dashboard_server, "GET", "metrics/get-history",
               params={"run_id": run_id, "metric_key": "s"}).json()["metrics"]
    assert got == [{"key": "s", "value": "NaN", "timestamp": 5, "step": 7}]
