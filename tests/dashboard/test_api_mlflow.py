"""The official mlflow client against the kernelflow server, checked with kernelflow's SDK."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.mlflow
pytest.importorskip("mlflow")


def test_mlflow_fluent_tracking_round_trip(mlflow_env, dashboard_server, tmp_path):
    import kernelflow

    mlflow = mlflow_env
    exp_id = mlflow.set_experiment("mlflow-fluent").experiment_id
    note = tmp_path / "note.txt"
    note.write_text("hello from mlflow")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"layers": 3, "act": "relu"})
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_metrics({"acc": 0.9, "f1": float("nan")}, step=1)
        mlflow.set_tag("team", "kf")
        mlflow.log_artifact(str(note), artifact_path="notes")
    run_id = run.info.run_id

    found = mlflow.search_runs([exp_id], filter_string="params.lr = '0.1'")
    assert list(found["run_id"]) == [run_id]
    assert [f.path for f in mlflow.MlflowClient().list_artifacts(run_id)] == ["notes"]
    assert [f.path for f in mlflow.MlflowClient().list_artifacts(run_id, "notes")] == ["notes/note.txt"]

    kf = kernelflow.Client(dashboard_server.db_uri)
    seen = kf.get_run(run_id)
    assert seen.info.status == "FINISHED" and seen.info.run_name == "first"
    assert seen.data.params == {"lr": "0.1", "layers": "3", "act": "relu"}
    assert seen.data.metrics["loss"] == 0.25 and seen.data.metrics["acc"] == 0.9
    assert math.isnan(seen.data.metrics["f1"])
    assert seen.data.tags["team"] == "kf"
    assert list(kf.get_metric_history(run_id, "loss").values) == [0.5, 0.25]
    assert [f.path for f in kf.list_artifacts(run_id, "notes")] == ["notes/note.txt"]
    local = kf.download_artifacts(run_id, "notes/note.txt")
    assert open(local).read() == "hello from mlflow"


def test_mlflow_artifact_download(mlflow_env, tmp_path):
    mlflow = mlflow_env
    mlflow.set_experiment("mlflow-download")
    with mlflow.start_run() as run:
        mlflow.log_text("some text", "a/b.txt")
        mlflow.log_dict({"k": 1}, "d.json")
    client = mlflow.MlflowClient()
    path = client.download_artifacts(run.info.run_id, "a/b.txt", str(tmp_path))
    assert open(path).read() == "some text"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")


def test_mlflow_client_metric_history_and_search(mlflow_env):
    mlflow = mlflow_env
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("mlflow-client", tags={"owner": "me"})
    runs = [client.create_run(exp_id, run_name=f"r{i}") for i in range(3)]
    for i, r in enumerate(runs):
        client.log_metric(r.info.run_id, "score", float(i), step=i)
        client.set_terminated(r.info.run_id)
    history = client.get_metric_history(runs[2].info.run_id, "score")
    assert [(m.step, m.value) for m in history] == [(2, 2.0)]
    best = client.search_runs([exp_id], order_by=["metrics.score DESC"], max_results=2)
    assert [r.info.run_name for r in best] == ["r2", "r1"]
    page2 = client.search_runs([exp_id], order_by=["metrics.score DESC"], max_results=2,
                               page_token=best.token)
    assert [r.info.run_name for r in page2] == ["r0"] and not page2.token
    assert client.get_experiment(exp_id).tags["owner"] == "me"
    client.rename_experiment(exp_id, "mlflow-client-renamed")
    assert client.get_experiment_by_name("mlflow-client-renamed").experiment_id == exp_id
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_concurrent_mlflow_clients(mlflow_env, dashboard_server):
    from concurrent.futures import ThreadPoolExecutor

    from mlflow.entities import Metric

    import kernelflow

    client = mlflow_env.MlflowClient()
    exp_id = client.create_experiment("concurrent")
    shared = client.create_run(exp_id).info.run_id

    def work(worker: int) -> None:
        for batch in range(5):
            metrics = [Metric("m", float(i), 1, batch * 200 + i) for i in range(200)]
            client.log_batch(shared, metrics=metrics)
            client.log_param(shared, f"w{worker}-{batch}", batch)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    seen = kernelflow.Client(dashboard_server.db_uri)
    assert len(seen.get_metric_history(shared, "m")) == 4 * 5 * 200
    assert len(seen.get_run(shared).data.params) == 20


def test_ui_and_api_share_one_port(dashboard_server):
    import requests

    pytest.importorskip("kernelflow_dashboard.ui")
    page = requests.get(dashboard_server.url + "/runs")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    api = requests.post(dashboard_server.url + "/api/2.0/mlflow/experiments/search", json={})
    assert api.status_code == 200 and "experiments" in api.json()


def test_mlflow_run_lifecycle_tags_and_nested_runs(mlflow_env, dashboard_server):
    import kernelflow

    mlflow = mlflow_env
    client = mlflow.MlflowClient()
    exp_id = mlflow.set_experiment("lifecycle").experiment_id
    client.set_experiment_tag(exp_id, "purpose", "tests")
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.set_tag("temp", "x")
    client.delete_tag(child.info.run_id, "temp")
    assert "temp" not in client.get_run(child.info.run_id).data.tags
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    client.delete_run(child.info.run_id)
    assert client.get_run(child.info.run_id).info.lifecycle_stage == "deleted"
    assert [r.info.run_name for r in client.search_runs([exp_id])] == ["parent"]
    assert len(client.search_runs([exp_id], run_view_type=3)) == 2  # ViewType.ALL
    client.restore_run(child.info.run_id)
    client.update_run(child.info.run_id, name="renamed")
    names = {e.name for e in mlflow.search_experiments(filter_string="name LIKE 'life%'")}
    assert names == {"lifecycle"}
    kf = kernelflow.Client(dashboard_server.db_uri)
    assert kf.get_experiment(exp_id).tags["purpose"] == "tests"
    assert kf.get_run(child.info.run_id).info.run_name == "renamed"


def test_mlflow_register_model_fluent(mlflow_env, tmp_path):
    mlflow = mlflow_env
    mlflow.set_experiment("fluent-register")
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "MLmodel"), "model")
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", "fluent-model")
    assert mv.version == "1" and mv.run_id == run.info.run_id
