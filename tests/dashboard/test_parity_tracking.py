"""MLflow parity, from the official mlflow client's side, against a real kernelflow server.

Each test is one item of the parity issue: artifact locations and URIs, references kept as
given, the experiment search grammar and order, logged-model datasets, the web UI's extra
endpoints, MLflow's key phrases in errors. What MLflow's own server does is checked in
``test_parity_mlflow_server.py``.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from parity_helpers import start_kernelflow

pytestmark = pytest.mark.mlflow
mlflow = pytest.importorskip("mlflow")

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@pytest.fixture(scope="module")
def kf(dashboard_server):
    """The official mlflow client on the module's kernelflow server."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
                     "MLFLOW_TRACKING_PASSWORD"):
            mp.delenv(name, raising=False)
        mp.setenv("MLFLOW_TRACKING_URI", dashboard_server.url)
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(dashboard_server.url)
        yield mlflow.MlflowClient(dashboard_server.url)
        while mlflow.active_run() is not None:
            mlflow.end_run()


def call(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, server.url + path, timeout=30, **kwargs)


# -- artifact locations and URIs ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["path", "file-uri", "relative", "s3"])
def test_create_experiment_accepts_any_artifact_location(kf, tmp_path, kind):
    given = {"path": str(tmp_path / "loc"), "file-uri": (tmp_path / "loc").as_uri(),
             "relative": "my_location", "s3": "s3://bucket/prefix"}[kind]
    exp_id = kf.create_experiment(f"loc-{kind}", artifact_location=given)
    shown = kf.get_experiment(exp_id).artifact_location
    # MLflow makes a relative path absolute against the server's folder; the rest as given.
    assert shown.endswith("/my_location") if kind == "relative" else shown == given
    run = kf.create_run(exp_id)
    assert run.info.artifact_uri == f"{shown}/{run.info.run_id}/artifacts"


def test_client_logs_itself_to_a_local_experiment_location(kf, dashboard_server, tmp_path):
    """As with MLflow: the client writes a local location directly; the server refuses to
    serve files outside its root, with a clear error at access (not at creation)."""
    loc = tmp_path / "mine"
    exp_id = kf.create_experiment("loc-written", artifact_location=str(loc))
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_text("hello", "notes/a.txt")
    written = loc / run.info.run_id / "artifacts" / "notes" / "a.txt"
    assert written.read_text() == "hello"
    assert [f.path for f in kf.list_artifacts(run.info.run_id, "notes")] == ["notes/a.txt"]
    refused = call(dashboard_server, "GET", f"{API}/artifacts/list",
                   params={"run_id": run.info.run_id})
    assert refused.status_code == 400
    assert "outside this server's artifact root" in refused.json()["message"]


def test_default_locations_are_mlflow_artifacts_uris_with_serve_artifacts(kf):
    exp_id = kf.create_experiment("served")
    assert kf.get_experiment(exp_id).artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert kf.create_run(exp_id).info.artifact_uri.startswith(f"mlflow-artifacts:/{exp_id}/")


@pytest.fixture(scope="module")
def unserved(tmp_path_factory):
    """A kernelflow server started with --no-serve-artifacts."""
    server = start_kernelflow(tmp_path_factory.mktemp("unserved"), "--no-serve-artifacts")
    yield server
    server.stop()


def test_no_serve_artifacts_gives_real_paths_that_the_client_writes(unserved):
    client = mlflow.MlflowClient(unserved.url)
    exp_id = client.create_experiment("real-paths")
    location = client.get_experiment(exp_id).artifact_location
    assert location == str(unserved.artifact_root / exp_id)
    run = client.create_run(exp_id)
    client.log_text(run.info.run_id, "on disk", "a.txt")
    assert (unserved.artifact_root / exp_id / run.info.run_id / "artifacts" / "a.txt").exists()
    proxied = requests.get(f"{unserved.url}/api/2.0/mlflow-artifacts/artifacts", timeout=30)
    assert proxied.status_code == 503 and "--no-serve-artifacts" in proxied.json()["message"]


def test_model_version_from_a_local_source_inside_its_run(unserved):
    """``create_model_version(source=<local path or file:// URI>, run_id=...)`` as MLflow."""
    client = mlflow.MlflowClient(unserved.url, unserved.url)
    exp_id = client.create_experiment("local-source")
    run = client.create_run(exp_id)
    client.log_text(run.info.run_id, "weights", "model/MLmodel")
    client.create_registered_model("local-src")
    source = f"{run.info.artifact_uri}/model"
    made = client.create_model_version("local-src", source, run_id=run.info.run_id)
    assert made.source == source
    as_uri = client.create_model_version("local-src", "file://" + source, run_id=run.info.run_id)
    assert as_uri.source == "file://" + source
    with pytest.raises(mlflow.exceptions.MlflowException,
                       match="run_id request parameter has to be specified"):
        client.create_model_version("local-src", "/etc")


# -- references kept as given -----------------------------------------------------------------
def test_parent_run_id_tag_naming_no_run_is_kept(kf):
    exp_id = kf.create_experiment("orphans")
    run = kf.create_run(exp_id, tags={"mlflow.parentRunId": "0" * 32})
    assert kf.get_run(run.info.run_id).data.tags["mlflow.parentRunId"] == "0" * 32


def test_logged_model_source_run_id_is_kept_as_given(kf):
    exp_id = kf.create_experiment("model-orphans")
    model = kf.create_logged_model(exp_id, source_run_id="f" * 32)
    assert kf.get_logged_model(model.model_id).source_run_id == "f" * 32


# -- search_experiments -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zoo(kf):
    """Three experiments created in order, a few ms apart, with tags."""
    ids = {}
    for name, team in (("zoo-b", "ml"), ("zoo-a", "data"), ("zoo-c", "ml")):
        ids[name] = kf.create_experiment(name, tags={"team": team})
        time.sleep(0.01)
    return ids


def _names(exps) -> list[str]:
    return [e.name for e in exps]


def test_search_experiments_default_order_is_newest_first(kf, zoo):
    found = kf.search_experiments(filter_string="name LIKE 'zoo-%'")
    assert _names(found) == ["zoo-c", "zoo-a", "zoo-b"]


@pytest.mark.parametrize("order_by, expected", [
    (["name"], ["zoo-a", "zoo-b", "zoo-c"]),
    (["name DESC"], ["zoo-c", "zoo-b", "zoo-a"]),
    (["experiment_id ASC"], ["zoo-b", "zoo-a", "zoo-c"]),
    (["creation_time"], ["zoo-b", "zoo-a", "zoo-c"]),
    (["last_update_time DESC"], ["zoo-c", "zoo-a", "zoo-b"]),
])
def test_search_experiments_order_by(kf, zoo, order_by, expected):
    assert _names(kf.search_experiments(filter_string="name LIKE 'zoo-%'",
                                        order_by=order_by)) == expected


@pytest.mark.parametrize("filter_string, expected", [
    ("attribute.name = 'zoo-a'", {"zoo-a"}),
    ("name != 'zoo-a' AND name LIKE 'zoo-%'", {"zoo-b", "zoo-c"}),
    ("name ILIKE 'ZOO-_'", {"zoo-a", "zoo-b", "zoo-c"}),
    ("tags.team = 'ml' AND name LIKE 'zoo%'", {"zoo-b", "zoo-c"}),
    ("tags.`team` LIKE 'd%'", {"zoo-a"}),
    ("tags.team != 'ml' AND name LIKE 'zoo%'", {"zoo-a"}),
    ("creation_time > 0 AND name LIKE 'zoo-%'", {"zoo-a", "zoo-b", "zoo-c"}),
    ("last_update_time < 0", set()),
])
def test_search_experiments_grammar(kf, zoo, filter_string, expected):
    assert set(_names(kf.search_experiments(filter_string=filter_string))) == expected


def test_search_experiments_by_time_and_pages(kf, zoo):
    created = kf.get_experiment(zoo["zoo-a"]).creation_time
    later = kf.search_experiments(filter_string=f"creation_time >= {created} AND name LIKE 'zoo%'")
    assert set(_names(later)) == {"zoo-a", "zoo-c"}
    page = kf.search_experiments(filter_string="name LIKE 'zoo-%'", max_results=2)
    rest = kf.search_experiments(filter_string="name LIKE 'zoo-%'", max_results=2,
                                 page_token=page.token)
    assert _names(page) + _names(rest) == ["zoo-c", "zoo-a", "zoo-b"] and not rest.token


@pytest.mark.parametrize("bad", ["metrics.acc > 1", "name > 'a'", "creation_time = 'x'",
                                 "nope = 'a'", "name = 'a' OR name = 'b'"])
def test_search_experiments_bad_filters_are_400(kf, zoo, bad):
    with pytest.raises(mlflow.exceptions.MlflowException) as info:
        kf.search_experiments(filter_string=bad)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


# -- search_runs tie-breakers ---------------------------------------------------------------------
def test_search_runs_ties_break_by_run_id_and_pages_are_stable(kf):
    exp_id = kf.create_experiment("ties")
    ids = [kf.create_run(exp_id, start_time=1000).info.run_id for _ in range(5)]
    seen = []
    token = None
    while True:
        page = kf.search_runs([exp_id], max_results=2, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == sorted(ids)


# -- logged models ----------------------------------------------------------------------------------
def test_search_logged_models_by_dataset(kf):
    from mlflow.entities import Metric

    exp_id = kf.create_experiment("model-datasets")
    run_id = kf.create_run(exp_id).info.run_id
    on_train = kf.create_logged_model(exp_id, name="on-train")
    on_test = kf.create_logged_model(exp_id, name="on-test")
    for model, dataset, acc in ((on_train, "train", 0.9), (on_test, "test", 0.5)):
        kf.log_batch(run_id, metrics=[Metric("acc", acc, 1, 0, model_id=model.model_id,
                                             dataset_name=dataset, dataset_digest="d1")])
    def names(**kw):
        return sorted(m.name for m in kf.search_logged_models([exp_id], **kw))
    assert names(datasets=[{"dataset_name": "train"}]) == ["on-train"]
    assert names(datasets=[{"dataset_name": "test", "dataset_digest": "d1"}]) == ["on-test"]
    assert names(datasets=[{"dataset_name": "test", "dataset_digest": "other"}]) == []
    assert names(filter_string="metrics.acc > 0.1", datasets=[{"dataset_name": "test"}]) \
        == ["on-test"]
    assert names(filter_string="metrics.acc > 0.7") == ["on-train"]


def test_model_versions_tag_holds_numbers(kf, dashboard_server):
    exp_id = kf.create_experiment("registrations")
    model = kf.create_logged_model(exp_id)
    kf.finalize_logged_model(model.model_id, "READY")
    kf.create_registered_model("numbered")
    kf.create_model_version("numbered", f"models:/{model.model_id}", model_id=model.model_id)
    tag = kf.get_logged_model(model.model_id).tags["mlflow.modelVersions"]
    assert json.loads(tag) == [{"name": "numbered", "version": 1}]


# -- endpoints of MLflow's web UI -------------------------------------------------------------------
@pytest.fixture(scope="module")
def curves(kf):
    from mlflow.entities import Metric

    exp_id = kf.create_experiment("curves")
    runs = [kf.create_run(exp_id).info.run_id for _ in range(2)]
    for i, run_id in enumerate(runs):
        kf.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1 + i), 100 + s, s)
                                      for s in range(30)])
    return exp_id, runs


def test_get_history_bulk(dashboard_server, curves):
    _, runs = curves
    resp = call(dashboard_server, "GET", f"{AJAX}/metrics/get-history-bulk",
                params={"run_id": runs, "metric_key": "loss", "max_results": 40})
    metrics = resp.json()["metrics"]
    assert len(metrics) == 40
    assert [m["run_id"] for m in metrics] == [min(runs)] * 30 + [max(runs)] * 10
    assert set(metrics[0]) == {"key", "value", "timestamp", "step", "run_id"}
    missing = call(dashboard_server, "GET", f"{AJAX}/metrics/get-history-bulk",
                   params={"metric_key": "loss"})
    assert missing.status_code == 400
    assert "must specify at least one run_id" in missing.json()["message"]


def test_get_history_bulk_interval_samples_like_mlflow(dashboard_server, curves):
    _, runs = curves
    url = f"{AJAX}/metrics/get-history-bulk-interval"
    got = call(dashboard_server, "GET", url,
               params={"run_ids": runs[:1], "metric_key": "loss", "max_results": 4}).json()
    # NTILE(4) over 30 points: buckets of 8, 8, 7, 7 start at 0, 8, 16, 23; the last point
    # replaces the last pick.
    assert [m["step"] for m in got["metrics"]] == [0, 8, 16, 29]
    window = call(dashboard_server, "GET", url, params={
        "run_ids": runs, "metric_key": "loss", "start_step": 5, "end_step": 7}).json()
    assert [(m["run_id"], m["step"]) for m in window["metrics"]] == \
        [(r, s) for r in runs for s in (5, 6, 7)]
    for params, says in (({"start_step": 5}, "both must be specified"),
                         ({"start_step": 9, "end_step": 2}, "end_step must be greater"),
                         ({"max_results": 0}, "max_results must be between 1 and")):
        bad = call(dashboard_server, "GET", url,
                   params={"run_ids": runs, "metric_key": "loss", **params})
        assert bad.status_code == 400 and says in bad.json()["message"], bad.text


def test_search_datasets(kf, dashboard_server):
    import pandas as pd

    exp_id = kf.create_experiment("with-datasets")
    frame = pd.DataFrame({"x": [1, 2, 3]})
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.log_input(mlflow.data.from_pandas(frame, name="numbers"), context="training")
    resp = call(dashboard_server, "POST", f"{AJAX}/experiments/search-datasets",
                json={"experiment_ids": [exp_id]})
    summaries = resp.json()["dataset_summaries"]
    assert len(summaries) == 1
    assert summaries[0]["experiment_id"] == exp_id and summaries[0]["name"] == "numbers"
    assert summaries[0]["context"] == "training" and summaries[0]["digest"]
    none = call(dashboard_server, "POST", f"{AJAX}/experiments/search-datasets", json={})
    assert none.status_code == 400
    assert "at least one experiment_id" in none.json()["message"]


def test_upload_artifact_and_logged_model_files(kf, dashboard_server):
    exp_id = kf.create_experiment("uploads")
    run_id = kf.create_run(exp_id).info.run_id
    up = call(dashboard_server, "POST", f"{AJAX}/upload-artifact",
              params={"run_uuid": run_id, "path": "notes/hi.txt"}, data=b"hi there")
    assert up.status_code == 200, up.text
    assert [f.path for f in kf.list_artifacts(run_id, "notes")] == ["notes/hi.txt"]
    for params, data, says in (({}, b"x", "Request must specify run_uuid."),
                               ({"run_uuid": run_id}, b"x", "Request must specify path."),
                               ({"run_uuid": run_id, "path": "../escape.txt"}, b"", "Invalid path"),
                               ({"run_uuid": run_id, "path": "a.txt"}, b"", "must specify data")):
        bad = call(dashboard_server, "POST", f"{AJAX}/upload-artifact", params=params, data=data)
        assert bad.status_code == 400 and says in bad.json()["message"], bad.text
    model = kf.create_logged_model(exp_id)
    kf.log_model_artifact(model.model_id, _file(dashboard_server, "weights.bin"))
    got = call(dashboard_server, "GET", f"{AJAX}/logged-models/{model.model_id}/artifacts/files",
               params={"artifact_file_path": "weights.bin"})
    assert got.status_code == 200 and got.content == b"\x00\x01"
    missing = call(dashboard_server, "GET",
                   f"{AJAX}/logged-models/{model.model_id}/artifacts/files")
    assert missing.status_code == 400 and "artifact_file_path" in missing.json()["message"]


def _file(server, name: str) -> str:
    path = server.artifact_root.parent / name
    path.write_bytes(b"\x00\x01")
    return str(path)


def test_create_promptlab_run(kf, dashboard_server):
    exp_id = kf.create_experiment("promptlab")
    body = {"experiment_id": exp_id, "run_name": "pl", "prompt_template": "Say {{ word }}",
            "prompt_parameters": [{"key": "word", "value": "hi"}], "model_route": "chat",
            "model_parameters": [{"key": "temperature", "value": "0.1"}],
            "model_input": "Say hi", "model_output": "hi", "mlflow_version": mlflow.__version__,
            "user_id": "me"}
    resp = call(dashboard_server, "POST", f"{AJAX}/runs/create-promptlab-run", json=body)
    assert resp.status_code == 200, resp.text
    run = kf.get_run(resp.json()["run"]["info"]["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"temperature": "0.1", "model_route": "chat",
                               "prompt_template": "Say {{ word }}"}
    assert run.data.tags["mlflow.runSourceType"] == "PROMPT_ENGINEERING"
    table = kf.load_table(exp_id, "eval_results_table.json", run_ids=[run.info.run_id])
    assert list(table.columns)[:3] == ["word", "prompt", "output"]
    assert resp.json()["run"]["info"]["user_id"] == "me"
    required = ("experiment_id", "prompt_template", "prompt_parameters", "model_route",
                "model_input", "mlflow_version")
    for i, name in enumerate(required):  # refused in MLflow's order
        partial = {k: body[k] for k in required[:i]}
        missing = call(dashboard_server, "POST", f"{AJAX}/runs/create-promptlab-run",
                       json=partial)
        assert missing.status_code == 400
        assert f"CreatePromptlabRun request must specify {name}." in missing.json()["message"]


# -- MLflow's key phrases in errors -----------------------------------------------------------------
@pytest.mark.parametrize("method, path, kwargs, phrase", [
    ("GET", "runs/get", {"params": {"run_id": "0" * 32}}, "Run '" + "0" * 32 + "' not found"),
    ("POST", "runs/delete-tag", {"json": {"run_id": "RUN", "key": "nope"}}, "No tag with name"),
    ("POST", "experiments/search", {"json": {"max_results": 0}},
     "Invalid value 0 for parameter 'max_results' supplied"),
    ("POST", "runs/search", {"json": {"experiment_ids": ["0"], "max_results": 60000}},
     "Invalid value 60000 for parameter 'max_results' supplied"),
    ("POST", "runs/log-metric", {"json": {"run_id": "RUN", "key": "m", "value": "x",
                                          "timestamp": 1}}, 'Invalid value "x" for parameter'),
    ("POST", "experiments/create", {"json": {"name": "tagged", "tags": "5"}},
     "Invalid value \"5\" for parameter 'tags' supplied"),
    ("POST", "experiments/create", {"json": {"name": 123}},
     "Invalid value 123 for parameter 'name' supplied"),
])
def test_error_messages_carry_mlflow_key_phrases(kf, dashboard_server, method, path, kwargs,
                                                 phrase):
    run_id = kf.create_run(kf.create_experiment(f"errors-{uuid.uuid4().hex}")).info.run_id
    text = json.dumps(kwargs).replace("RUN", run_id)
    resp = call(dashboard_server, method, f"{API}/{path}", **json.loads(text))
    assert resp.status_code in (400, 404), resp.text
    assert phrase in resp.json()["message"]


def test_more_than_a_thousand_query_fields_get_a_json_answer(dashboard_server):
    resp = call(dashboard_server, "GET", f"{AJAX}/metrics/get-history-bulk",
                params={"run_id": [f"id_{i}" for i in range(1500)], "metric_key": "k"})
    assert resp.status_code == 400
    assert "cannot specify more than 100 run_ids" in resp.json()["message"]


def test_very_long_query_strings_get_json_answers(dashboard_server):
    long = call(dashboard_server, "GET", f"{API}/runs/get", params={"run_id": "x" * 200_000})
    assert long.status_code == 404 and "not found" in long.json()["message"]
    too_long = call(dashboard_server, "GET", f"{API}/runs/get",
                    params={"run_id": "x" * 2_000_000})
    assert too_long.status_code == 414
    assert too_long.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Request URI too long" in too_long.json()["message"]


def test_kernelflow_http_client_searches_datasets_and_models_by_dataset(kf, dashboard_server):
    import kernelflow

    remote = kernelflow.Client(dashboard_server.url)
    exp_id = remote.create_experiment("http-datasets")
    found = remote.search_dataset_summaries([exp_id])
    assert found == []
    models = remote.search_logged_models([exp_id], datasets=[{"dataset_name": "x"}])
    assert list(models) == []


def test_history_bulk_interval_of_an_unknown_run_is_404(dashboard_server, curves):
    resp = call(dashboard_server, "GET", f"{AJAX}/metrics/get-history-bulk-interval",
                params={"run_ids": ["0" * 32], "metric_key": "loss"})
    assert resp.status_code == 404 and "not found" in resp.json()["message"]


class Doubler(mlflow.pyfunc.PythonModel):
    """A pyfunc model with no framework behind it."""

    def predict(self, context, model_input, params=None):
        return model_input * 2


def test_log_model_to_a_local_artifact_uri_registers_and_loads(unserved, monkeypatch):
    """With --no-serve-artifacts the client writes the model itself, then registers it."""
    import pandas as pd

    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", unserved.url)
    mlflow.set_tracking_uri(unserved.url)
    try:
        exp_id = mlflow.MlflowClient().create_experiment("local-models")
        with mlflow.start_run(experiment_id=exp_id):
            mlflow.pyfunc.log_model(name="m", python_model=Doubler(),
                                    registered_model_name="local-doubler")
        loaded = mlflow.pyfunc.load_model("models:/local-doubler/1")
        assert loaded.predict(pd.DataFrame({"x": [1, 2]}))["x"].tolist() == [2, 4]
        source = mlflow.MlflowClient().get_model_version("local-doubler", "1").source
        assert source.startswith(str(unserved.artifact_root / exp_id))
    finally:
        mlflow.set_tracking_uri(previous)


def test_kernelflow_sdk_uses_locations_mlflow_clients_set(kf, dashboard_server, tmp_path):
    """A file:// location works for the SDK on the server's file; a remote one says why not."""
    import kernelflow
    from kernelflow.errors import InvalidStateError

    local = kernelflow.Client(dashboard_server.db_uri)
    exp_id = kf.create_experiment("sdk-file-uri", artifact_location=(tmp_path / "f").as_uri())
    run_id = local.create_run(exp_id).info.run_id
    local.log_text(run_id, "from the sdk", "a.txt")
    assert (tmp_path / "f" / run_id / "artifacts" / "a.txt").read_text() == "from the sdk"
    assert [f.path for f in kf.list_artifacts(run_id)] == ["a.txt"]  # mlflow reads it too
    remote_exp = kf.create_experiment("sdk-s3", artifact_location="s3://bucket/x")
    remote_run = local.create_run(remote_exp).info.run_id
    with pytest.raises(InvalidStateError, match="not in a local folder"):
        local.log_text(remote_run, "x", "a.txt")


def test_artifact_paths_with_dots_are_invalid_paths(kf, dashboard_server):
    """MLflow's ``Invalid path`` (400, INVALID_PARAMETER_VALUE) on every artifact read."""
    exp_id = kf.create_experiment("dotted")
    run_id = kf.create_run(exp_id).info.run_id
    kf.log_text(run_id, "weights", "model/MLmodel")
    kf.create_registered_model("dotted-model")
    kf.create_model_version("dotted-model", f"runs:/{run_id}/model", run_id=run_id)
    for path, params in ((f"{API}/artifacts/list", {"run_id": run_id}),
                         ("/get-artifact", {"run_id": run_id}),
                         ("/model-versions/get-artifact", {"name": "dotted-model",
                                                           "version": "1"})):
        resp = call(dashboard_server, "GET", path, params={**params, "path": "../path"})
        assert resp.status_code == 400, (path, resp.text)
        assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert resp.json()["message"].startswith("Invalid path")
    got = call(dashboard_server, "GET", "/model-versions/get-artifact",
               params={"name": "dotted-model", "version": "1", "path": "MLmodel"})
    assert got.status_code == 200 and got.content == b"weights"


@pytest.mark.parametrize("source", [
    "mlflow-artifacts://host:9000/models/../../../", "http://host:9000/models/../../../",
    "s3a://bucket/api/2.0/mlflow-artifacts/artifacts/../../../",
    "mlflow-artifacts://host:9000/models/..%2f..%2fartifacts",
    "mlflow-artifacts://host:9000/models/artifact%00",
])
def test_model_version_sources_with_relative_parts_are_refused(kf, dashboard_server, source):
    name = kf.create_registered_model(f"rel-{uuid.uuid4().hex[:8]}").name
    resp = call(dashboard_server, "POST", f"{API}/model-versions/create",
                json={"name": name, "source": source})
    assert resp.status_code == 400
    assert "If supplying a source as an http, https," in resp.json()["message"]


def test_model_version_from_a_path_with_dots_inside_its_run(unserved):
    client = mlflow.MlflowClient(unserved.url, unserved.url)
    run = client.create_run(client.create_experiment("dots-inside"))
    client.create_registered_model("dots-inside")
    made = client.create_model_version("dots-inside", f"{run.info.artifact_uri}/model/..",
                                       run_id=run.info.run_id)
    assert made.version == "1"


def test_search_runs_by_dataset_name_digest_and_context(kf):
    from mlflow.entities import Dataset, DatasetInput, InputTag

    exp_id = kf.create_experiment("runs-by-dataset")
    runs = {}
    for name, context in (("train", "training"), ("test", "eval")):
        run_id = kf.create_run(exp_id, run_name=name).info.run_id
        kf.log_inputs(run_id, [DatasetInput(Dataset(name, f"d-{name}", "local", "{}"),
                                            [InputTag("mlflow.data.context", context)])])
        runs[run_id] = name
    kf.create_run(exp_id, run_name="none")

    def names(f):
        return sorted(r.info.run_name for r in kf.search_runs([exp_id], filter_string=f))
    assert names("dataset.name = 'train'") == ["train"]
    assert names("datasets.digest IN ('d-train', 'd-test')") == ["test", "train"]
    assert names("dataset.context = 'eval'") == ["test"]
    with pytest.raises(mlflow.exceptions.MlflowException, match="dataset.size"):
        names("dataset.size = '1'")
