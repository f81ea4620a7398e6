"""Run inputs (runs/log-inputs) and experiments/delete-experiment-tag, with MLflow's client,
raw HTTP, kernelflow's RestStore and the SQLite store underneath."""

from __future__ import annotations

import pytest
import requests

import kernelflow
from kernelflow.errors import InvalidParameterError, InvalidStateError, ResourceNotFoundError
from kernelflow.store import SqliteStore
from kernelflow.store.datasets import Dataset, DatasetInput

API = "/api/2.0/mlflow"


def call(server, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}{API}/{endpoint}", timeout=30, **kwargs)


def toy_dataset(mlflow, name: str = "toy", rows: int = 3):
    import pandas as pd
    df = pd.DataFrame({"a": list(range(rows)), "b": [float(i) / 2 for i in range(rows)]})
    return mlflow.data.from_pandas(df, source="s3://bucket/toy.csv", name=name)


# -- with MLflow's client --------------------------------------------------------------
@pytest.mark.mlflow
def test_log_input_round_trips_through_get_run(mlflow_env):
    mlflow = mlflow_env
    mlflow.set_experiment("datasets-roundtrip")
    train, evaluation = toy_dataset(mlflow, "train-set"), toy_dataset(mlflow, "eval-set", 5)
    with mlflow.start_run() as run:
        mlflow.log_input(train, context="training", tags={"split": "80%"})
        mlflow.log_input(evaluation, context="eval")
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["train-set", "eval-set"]
    first = inputs[0]
    assert first.dataset.digest == train.digest
    assert first.dataset.source_type == train.source._get_source_type()
    assert first.dataset.source == train.source.to_json()
    assert first.dataset.schema == train._to_mlflow_entity().schema
    assert first.dataset.profile == train._to_mlflow_entity().profile
    assert {t.key: t.value for t in first.tags} == {"mlflow.data.context": "training",
                                                    "split": "80%"}


@pytest.mark.mlflow
def test_search_runs_returns_dataset_inputs(mlflow_env):
    mlflow = mlflow_env
    exp_id = mlflow.set_experiment("datasets-search").experiment_id
    data = toy_dataset(mlflow)
    with mlflow.start_run() as used:
        mlflow.log_input(data, context="training")
    with mlflow.start_run() as unused:
        mlflow.log_param("x", 1)
    runs = {r.info.run_id: r for r in mlflow.search_runs([exp_id], output_format="list")}
    assert [i.dataset.digest for i in runs[used.info.run_id].inputs.dataset_inputs] == \
        [data.digest]
    assert runs[unused.info.run_id].inputs.dataset_inputs == []


@pytest.mark.mlflow
def test_same_dataset_twice_keeps_the_first_input_as_mlflow_does(mlflow_env, dashboard_server):
    mlflow = mlflow_env
    exp_id = mlflow.set_experiment("datasets-dedupe").experiment_id
    data = toy_dataset(mlflow)
    with mlflow.start_run() as first:
        mlflow.log_input(data, context="training")
        mlflow.log_input(data, context="eval")
    with mlflow.start_run() as second:
        mlflow.log_input(data, context="eval")
    tags = [{t.key: t.value for t in i.tags}
            for i in mlflow.get_run(first.info.run_id).inputs.dataset_inputs]
    assert tags == [{"mlflow.data.context": "training"}]
    again = mlflow.get_run(second.info.run_id).inputs.dataset_inputs
    assert [i.tags[0].value for i in again] == ["eval"]
    store = SqliteStore(str(dashboard_server.db_path), str(dashboard_server.artifact_root))
    rows = store.query("SELECT count(*) FROM datasets WHERE experiment_id = ? AND digest = ?",
                       [int(exp_id), data.digest])
    assert rows[0][0] == 1  # one dataset per experiment, shared by both runs


@pytest.mark.mlflow
def test_delete_experiment_tag_with_mlflow_client(mlflow_env):
    mlflow = mlflow_env
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("tags-delete", tags={"keep": "1", "drop": "2"})
    client.delete_experiment_tag(exp_id, "drop")
    assert client.get_experiment(exp_id).tags == {"keep": "1"}
    with pytest.raises(mlflow.exceptions.MlflowException, match="No tag with name: drop"):
        client.delete_experiment_tag(exp_id, "drop")


# -- raw HTTP: MLflow's error codes ----------------------------------------------------
def _run_id(server, name: str) -> str:
    exp = call(server, "POST", "experiments/create", json={"name": name}).json()
    return call(server, "POST", "runs/create",
                json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]


def _dataset(**overrides) -> dict:
    return {"name": "d", "digest": "abc123", "source_type": "local",
            "source": '{"uri": "/data"}', **overrides}


@pytest.mark.parametrize("dataset, message", [
    (_dataset(digest="x" * 37), "digest"),
    (_dataset(name=None), "name"),
    ({k: v for k, v in _dataset().items() if k != "source"}, "source"),
])
def test_log_inputs_rejects_bad_datasets(dashboard_server, dataset, message):
    run_id = _run_id(dashboard_server, f"bad-{message}-{len(str(dataset))}")
    resp = call(dashboard_server, "POST", "runs/log-inputs",
                json={"run_id": run_id, "datasets": [{"dataset": dataset}]})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in resp.json()["message"]


def test_log_inputs_to_a_missing_or_deleted_run(dashboard_server):
    body = {"datasets": [{"dataset": _dataset()}]}
    missing = call(dashboard_server, "POST", "runs/log-inputs", json={"run_id": "0" * 32, **body})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    run_id = _run_id(dashboard_server, "inputs-deleted-run")
    call(dashboard_server, "POST", "runs/delete", json={"run_id": run_id})
    deleted = call(dashboard_server, "POST", "runs/log-inputs", json={"run_id": run_id, **body})
    assert deleted.status_code == 400 and "active" in deleted.json()["message"]


def test_model_inputs_show_in_get_but_not_search(dashboard_server):
    run_id = _run_id(dashboard_server, "inputs-models")
    resp = call(dashboard_server, "POST", "runs/log-inputs",
                json={"run_id": run_id, "models": [{"model_id": "m-abc"}]})
    assert resp.status_code == 200, resp.text
    run = call(dashboard_server, "GET", "runs/get", params={"run_id": run_id}).json()["run"]
    assert run["inputs"] == {"model_inputs": [{"model_id": "m-abc"}]}
    exp_id = run["info"]["experiment_id"]
    found = call(dashboard_server, "POST", "runs/search",
                 json={"experiment_ids": [exp_id]}).json()["runs"]
    assert found[0]["inputs"] == {}


def test_delete_experiment_tag_errors(dashboard_server):
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": "tags-deleted-exp", "tags": [{"key": "k", "value": "v"}]}
                  ).json()["experiment_id"]
    missing = call(dashboard_server, "POST", "experiments/delete-experiment-tag",
                   json={"experiment_id": exp_id, "key": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["message"]
    call(dashboard_server, "POST", "experiments/delete", json={"experiment_id": exp_id})
    deleted = call(dashboard_server, "POST", "experiments/delete-experiment-tag",
                   json={"experiment_id": exp_id, "key": "k"})
    assert deleted.status_code == 400 and "restore" in deleted.json()["message"]


# -- kernelflow's SDK over HTTP and the SQLite store ----------------------------------------
def test_rest_store_logs_and_reads_inputs(dashboard_server):
    client = kernelflow.Client(dashboard_server.url)
    exp_id = client.create_experiment("inputs-rest", tags={"t": "1"})
    run_id = client.create_run(exp_id).info.run_id
    item = DatasetInput(Dataset("d", "abc", "local", '{"uri": "/d"}', schema='{"cols": 2}'),
                        {"mlflow.data.context": "train"})
    client.log_inputs(run_id, [item], ["m-1"])
    assert client.get_dataset_inputs([run_id]) == {run_id: [item]}
    assert client.get_model_inputs(run_id) == ["m-1"]
    client.delete_experiment_tag(exp_id, "t")
    assert client.get_experiment(exp_id).tags == {}
    with pytest.raises(ResourceNotFoundError, match="No tag"):
        client.delete_experiment_tag(exp_id, "t")


def test_sqlite_store_inputs(tmp_path):
    store = SqliteStore(str(tmp_path / "kf.db"), str(tmp_path / "art"))
    run_id = store.create_run("0", "me", None, "r").info.run_id
    with pytest.raises(InvalidParameterError, match="tag"):
        store.log_inputs(run_id, [DatasetInput(Dataset("d", "1", "local", "{}"), {"k": "v" * 501})])
    assert store.get_dataset_inputs([run_id]) == {}
    many = [DatasetInput(Dataset(f"d{i}", str(i), "local", "{}")) for i in range(600)]
    store.log_inputs(run_id, many)
    assert [i.dataset.name for i in store.get_dataset_inputs([run_id])[run_id]] == \
        [f"d{i}" for i in range(600)]
    store.delete_run(run_id)
    with pytest.raises(InvalidStateError, match="active"):
        store.log_inputs(run_id, many[:1])


@pytest.mark.mlflow
def test_search_runs_returns_model_outputs_like_get_run(mlflow_env):
    mlflow = mlflow_env
    client = mlflow.MlflowClient()
    exp_id = mlflow.set_experiment("outputs-search").experiment_id
    with mlflow.start_run() as run:
        model = client.create_logged_model(exp_id, source_run_id=run.info.run_id)
        client.log_outputs(run.info.run_id, [mlflow.entities.LoggedModelOutput(model.model_id, 3)])
    got = mlflow.get_run(run.info.run_id).outputs.model_outputs
    found = mlflow.search_runs([exp_id], output_format="list")[0].outputs.model_outputs
    assert [(m.model_id, m.step) for m in found] == [(m.model_id, m.step) for m in got] == \
        [(model.model_id, 3)]
