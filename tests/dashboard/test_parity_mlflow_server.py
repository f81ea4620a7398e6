"""The same REST calls against MLflow's own ``mlflow server`` and a kernelflow server, compared.

Status codes, error codes, response shapes and orders must be the same; ids differ, so
orders are compared by names or by the rank of the ids.
"""

from __future__ import annotations

import math
import time

import pytest
import requests
from parity_helpers import start_kernelflow, start_mlflow

# mlflow server needs a minute or more to start on a loaded machine (migrations, imports).
pytestmark = [pytest.mark.mlflow, pytest.mark.slow, pytest.mark.timeout(600)]
pytest.importorskip("mlflow")

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """``(mlflow's server, kernelflow's server)``, each on a fresh store."""
    ours = start_kernelflow(tmp_path_factory.mktemp("kf"))
    try:
        theirs = start_mlflow(tmp_path_factory.mktemp("mlflow"))
    except RuntimeError as exc:
        ours.stop()
        pytest.fail(f"mlflow server did not start: {exc}")
    yield theirs, ours
    theirs.stop()
    ours.stop()


def both(servers, method: str, path: str, **kwargs) -> list[requests.Response]:
    return [requests.request(method, s.url + path, timeout=60, **kwargs) for s in servers]


def each(servers, fn):
    """``[fn(mlflow_server), fn(kernelflow_server)]``."""
    return [fn(s) for s in servers]


def _post(server, path: str, body: dict) -> dict:
    resp = requests.post(server.url + API + path, json=body, timeout=60)
    assert resp.status_code == 200, (server.url, resp.text)
    return resp.json()


def test_search_experiments_orders_match(servers):
    def make(server):
        for name in ("cmp-b", "cmp-a", "cmp-c"):
            _post(server, "/experiments/create", {"name": name})
            time.sleep(0.01)
    each(servers, make)
    # (MLflow's server refuses a search without max_results, the proto default 0; kernelflow
    # takes 1000 then. The client always sends it.)
    for body in ({}, {"order_by": ["name DESC"]}, {"order_by": ["experiment_id"]},
                 {"order_by": ["last_update_time ASC"]}, {"max_results": 2},
                 {"filter": "name LIKE 'cmp-%' AND creation_time > 0"},
                 {"filter": "name != 'cmp-a'"}):
        body = {"max_results": 100, **body}
        got = [[e["name"] for e in r.json().get("experiments", [])]
               for r in both(servers, "POST", API + "/experiments/search", json=body)]
        assert got[0] == got[1] and got[0], body


def test_search_runs_tie_order_matches(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-ties"})["experiment_id"]
        ids = [_post(server, "/runs/create", {"experiment_id": exp, "start_time": 5})
               ["run"]["info"]["run_id"] for _ in range(5)]
        for run_id, value in zip(ids, (1.0, "NaN", None, 2.0, 1.0), strict=True):
            if value is not None:
                _post(server, "/runs/log-metric",
                      {"run_id": run_id, "key": "m", "value": value, "timestamp": 1})
        pages, token = [], None
        while True:
            page = _post(server, "/runs/search",
                         {"experiment_ids": [exp], "max_results": 2, "page_token": token})
            pages.append([r["info"]["run_id"] for r in page.get("runs", [])])
            token = page.get("next_page_token")
            if not token:
                break
        ordered = _post(server, "/runs/search", {"experiment_ids": [exp],
                                                 "order_by": ["metrics.m ASC"]})
        by_metric = [ids.index(r["info"]["run_id"]) for r in ordered["runs"]]
        tied = [i for i in by_metric if i in (0, 4)]  # the two runs with m = 1.0
        return [len(p) for p in pages], sum(pages, []) == sorted(ids), \
            [i for i in by_metric if i not in (0, 4)], tied == sorted((0, 4), key=lambda i: ids[i])
    theirs, ours = each(servers, make)
    assert theirs == ours
    assert ours[1] and ours[3]  # ties by run id, ascending, in both


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/runs/get", {"run_id": "0" * 32}),
    ("GET", "/experiments/get", {"experiment_id": "424242"}),
    ("POST", "/experiments/search", {"max_results": 0}),
    ("POST", "/experiments/search", {"max_results": 100000}),
    ("POST", "/experiments/search", {"filter": "metrics.a > 1"}),
    ("GET", "/registered-models/get", {"name": "no-such-model"}),
])
def test_error_status_and_codes_match(servers, method, path, body):
    kw = {"params": body} if method == "GET" else {"json": body}
    theirs, ours = both(servers, method, API + path, **kw)
    assert ours.status_code == theirs.status_code, (theirs.text, ours.text)
    for field in ("error_code", "error_class", "sqlstate"):
        assert ours.json().get(field) == theirs.json().get(field), field


def test_references_and_locations_are_kept_as_in_mlflow(servers):
    def make(server):
        exp = _post(server, "/experiments/create",
                    {"name": "cmp-loc", "artifact_location": "s3://bucket/prefix"})
        location = requests.get(server.url + API + "/experiments/get", timeout=60,
                                params={"experiment_id": exp["experiment_id"]}
                                ).json()["experiment"]["artifact_location"]
        run = _post(server, "/runs/create", {"experiment_id": exp["experiment_id"], "tags": [
            {"key": "mlflow.parentRunId", "value": "f" * 32}]})["run"]
        model = _post(server, "/logged-models",
                      {"experiment_id": exp["experiment_id"], "source_run_id": "e" * 32})
        tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
        return (location, run["info"]["artifact_uri"].replace(run["info"]["run_id"], "ID"),
                tags["mlflow.parentRunId"], model["model"]["info"]["source_run_id"])
    theirs, ours = each(servers, make)
    assert theirs == ours


def test_history_bulk_interval_samples_match(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-curves"})["experiment_id"]
        run_id = _post(server, "/runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        _post(server, "/runs/log-batch", {"run_id": run_id, "metrics": [
            {"key": "loss", "value": 1 / (s + 1), "timestamp": 100 + s, "step": s}
            for s in range(37)]})
        out = []
        for params in ({"max_results": 5}, {"max_results": 1},
                       {"max_results": 6, "start_step": 3, "end_step": 20}):
            resp = requests.get(server.url + AJAX + "/metrics/get-history-bulk-interval",
                                params={"run_ids": run_id, "metric_key": "loss", **params},
                                timeout=60)
            out.append([m["step"] for m in resp.json()["metrics"]])
            keys = sorted(resp.json()["metrics"][0])
        bulk = requests.get(server.url + AJAX + "/metrics/get-history-bulk",
                            params={"run_id": run_id, "metric_key": "loss", "max_results": 3},
                            timeout=60).json()["metrics"]
        return out, keys, [(m["step"], math.isclose(m["value"], 1 / (m["step"] + 1)))
                           for m in bulk]
    theirs, ours = each(servers, make)
    assert theirs == ours


def test_search_datasets_shape_matches(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-data"})["experiment_id"]
        run_id = _post(server, "/runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
        _post(server, "/runs/log-inputs", {"run_id": run_id, "datasets": [
            {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "train"}]},
        ]})
        found = requests.post(server.url + AJAX + "/experiments/search-datasets",
                              json={"experiment_ids": [exp]}, timeout=60).json()
        for s in found["dataset_summaries"]:
            s["experiment_id"] = "X"
        return found
    theirs, ours = each(servers, make)
    assert theirs == ours


def test_logged_model_dataset_search_and_registrations_match(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-models"})["experiment_id"]
        run_id = _post(server, "/runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        ids = {}
        for name, dataset in (("on-a", "a"), ("on-b", "b")):
            ids[name] = _post(server, "/logged-models", {"experiment_id": exp, "name": name}
                              )["model"]["info"]["model_id"]
            _post(server, "/runs/log-batch", {"run_id": run_id, "metrics": [
                {"key": "acc", "value": 0.5, "timestamp": 1, "step": 0,
                 "model_id": ids[name], "dataset_name": dataset, "dataset_digest": "x"}]})
        # (MLflow's server needs the digest over REST: without it, it matches nothing.)
        found = _post(server, "/logged-models/search", {
            "experiment_ids": [exp], "datasets": [{"dataset_name": "b", "dataset_digest": "x"}]})
        nameless = requests.post(server.url + API + "/logged-models/search", timeout=60, json={
            "experiment_ids": [exp], "datasets": [{"dataset_digest": "x"}]})
        _post(server, "/registered-models/create", {"name": "cmp-reg"})
        requests.patch(server.url + API + f"/logged-models/{ids['on-a']}",
                       json={"model_id": ids["on-a"], "status": "LOGGED_MODEL_READY"}, timeout=60)
        _post(server, "/model-versions/create", {"name": "cmp-reg", "model_id": ids["on-a"],
                                                 "source": f"models:/{ids['on-a']}"})
        model = requests.get(server.url + API + f"/logged-models/{ids['on-a']}",
                             timeout=60).json()["model"]
        tags = {t["key"]: t["value"] for t in model["info"]["tags"]}
        return ([m["info"]["name"] for m in found["models"]], tags["mlflow.modelVersions"],
                nameless.status_code, nameless.json()["error_code"])
    theirs, ours = each(servers, make)
    assert theirs == ours


def test_logged_model_default_order_matches(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-model-order"})["experiment_id"]
        for i in range(4):
            _post(server, "/logged-models", {"experiment_id": exp, "name": f"m{i}"})
        models = [m["info"] for m in _post(server, "/logged-models/search",
                                           {"experiment_ids": [exp]})["models"]]
        expected = sorted(models, key=lambda m: m["model_id"])
        expected.sort(key=lambda m: -int(m["creation_timestamp_ms"]))
        by_name = _post(server, "/logged-models/search", {
            "experiment_ids": [exp], "order_by": [{"field_name": "name", "ascending": False}]})
        return models == expected, [m["info"]["name"] for m in by_name["models"]]
    theirs, ours = each(servers, make)
    assert theirs == ours and ours[0]


def _phrase(message: str) -> str:
    """MLflow's key phrase: its message up to the first sentence end."""
    return message.split(". ")[0].split(" Error: ")[0].rstrip(".")


def test_error_messages_hold_mlflow_key_phrases(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-errors"})["experiment_id"]
        run_id = _post(server, "/runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
        _post(server, "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"})
        _post(server, "/registered-models/create", {"name": "cmp-err-model"})
        model_id = _post(server, "/logged-models", {"experiment_id": exp})["model"]["info"][
            "model_id"]
        calls = [
            ("POST", "/experiments/create", {"name": "cmp-errors"}),
            ("POST", "/registered-models/create", {"name": "cmp-err-model"}),
            ("GET", "/registered-models/alias", {"name": "cmp-err-model", "alias": "nope"}),
            ("GET", "/model-versions/get", {"name": "cmp-err-model", "version": "9"}),
            ("DELETE", "/registered-models/delete", {"name": "no-such-model"}),
            ("POST", "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "2"}),
            ("GET", "/runs/get", {"run_id": "f" * 32}),
            ("GET", "/logged-models/m-nope", {}),
            ("DELETE", f"/logged-models/{model_id}/tags/nope", {}),
            ("POST", "/logged-models/search", {"experiment_ids": [exp],
                                               "order_by": [{"field_name": "params.x"}]}),
        ]
        out = []
        for method, path, body in calls:
            kw = {"params": body} if method == "GET" else {"json": body}
            resp = requests.request(method, server.url + API + path, timeout=60, **kw)
            message = resp.json()["message"].replace(run_id, "RUN").replace(model_id, "MODEL")
            out.append((path, resp.status_code, resp.json()["error_code"], message))
        return out
    theirs, ours = each(servers, make)
    for (path, status, code, message), (_, our_status, our_code, our_message) in zip(
            theirs, ours, strict=True):
        assert (our_status, our_code) == (status, code), (path, message, our_message)
        assert _phrase(message) in our_message, (path, message, our_message)


def test_search_runs_by_dataset_matches(servers):
    def make(server):
        exp = _post(server, "/experiments/create", {"name": "cmp-run-datasets"})["experiment_id"]
        names = {}
        for name, dataset, context in (("a", "train", "training"), ("b", "test", "eval"),
                                       ("c", None, None)):
            run_id = _post(server, "/runs/create", {"experiment_id": exp, "run_name": name}
                           )["run"]["info"]["run_id"]
            names[run_id] = name
            if dataset:
                _post(server, "/runs/log-inputs", {"run_id": run_id, "datasets": [{
                    "dataset": {"name": dataset, "digest": f"d-{dataset}",
                                "source_type": "local", "source": "{}"},
                    "tags": [{"key": "mlflow.data.context", "value": context}]}]})
        out = []
        for f in ("dataset.name = 'train'", "dataset.digest IN ('d-train', 'd-test')",
                  "dataset.context = 'eval'", "dataset.name LIKE 't%'"):
            found = _post(server, "/runs/search", {"experiment_ids": [exp], "filter": f})
            out.append(sorted(names[r["info"]["run_id"]] for r in found.get("runs", [])))
        return out
    theirs, ours = each(servers, make)
    assert theirs == ours
