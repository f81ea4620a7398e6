"""One contract, two backends: the same cases on a SQLite file and over HTTP.

``client`` is a ``kernelflow.Client`` on a fresh SQLite file, or on a real
``kernelflow ui`` server (API only) on 127.0.0.1 whose store is another fresh file.
Every case must behave the same on both.
"""

from __future__ import annotations

import math

import pytest

import kernelflow as kf
from kernelflow import Dataset, DatasetInput, LoggedModelMetric, Metric, Param, RunTag
from kernelflow.errors import InvalidParameterError, KernelflowError, ResourceNotFoundError


@pytest.fixture(params=["sqlite", "http"])
def client(request, tmp_path, api_server):
    if request.param == "sqlite":
        return kf.Client(f"sqlite:///{tmp_path / 'contract.db'}")
    return kf.Client(api_server.url)


def _experiment(client, request) -> str:
    return client.create_experiment(f"contract-{request.node.name}-{id(client)}")


def test_experiments(client, request):
    name = f"exp-{request.node.name}-{id(client)}"
    exp_id = client.create_experiment(name, tags={"team": "a"})
    assert client.get_experiment(exp_id).name == name
    assert client.get_experiment_by_name(name).experiment_id == exp_id
    client.set_experiment_tag(exp_id, "k", "v")
    assert client.get_experiment(exp_id).tags["k"] == "v"
    client.delete_experiment_tag(exp_id, "k")
    assert "k" not in client.get_experiment(exp_id).tags
    client.rename_experiment(exp_id, name + "-2")
    found = client.search_experiments(filter_string=f"name = '{name}-2'")
    assert [e.experiment_id for e in found] == [exp_id]
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_runs_metrics_params_tags(client, request):
    exp = _experiment(client, request)
    run = client.create_run(exp, run_name="r1", tags={"t": "1"})
    rid = run.info.run_id
    for step in range(5):
        client.log_metric(rid, "loss", 1.0 / (step + 1), step=step)
    client.log_metric(rid, "odd", float("nan"))
    client.log_param(rid, "lr", 0.1)
    client.set_tag(rid, "phase", "train")
    client.log_batch(rid, metrics=[Metric("acc", 0.9, 1000, 7)], params=[Param("opt", "adam")],
                     tags=[RunTag("b", "2")])
    client.set_terminated(rid)
    got = client.get_run(rid)
    assert got.info.status == "FINISHED" and got.info.run_name == "r1"
    assert got.data.params == {"lr": "0.1", "opt": "adam"}
    assert {"t", "phase", "b"} <= set(got.data.tags)
    assert got.data.metrics["acc"] == 0.9 and math.isnan(got.data.metrics["odd"])
    history = client.get_metric_history(rid, "loss")
    assert [m.step for m in history] == list(range(5))
    assert sorted(client.get_metric_keys(rid)) == ["acc", "loss", "odd"]
    with pytest.raises(InvalidParameterError):
        client.log_param(rid, "lr", 0.2, synchronous=True)


def test_search_paging_counts_and_keys(client, request):
    exp = _experiment(client, request)
    for i in range(5):
        run = client.create_run(exp, run_name=f"r{i}")
        client.log_metric(run.info.run_id, "acc", i / 10)
        client.log_param(run.info.run_id, "i", i)
        client.set_terminated(run.info.run_id)
    page = client.search_runs([exp], "metrics.acc >= 0.2", order_by=["metrics.acc DESC"],
                              max_results=2)
    assert [r.data.metrics["acc"] for r in page] == [0.4, 0.3] and page.token
    rest = client.search_runs([exp], "metrics.acc >= 0.2", order_by=["metrics.acc DESC"],
                              max_results=2, page_token=page.token)
    assert [r.data.metrics["acc"] for r in rest] == [0.2] and rest.token is None
    assert client.count_runs([exp], "metrics.acc >= 0.2") == 3
    assert client.count_runs_by_experiment()[exp] == 5
    keys = client.get_experiment_keys([exp])
    assert keys["metrics"] == ["acc"] and keys["params"] == ["i"]
    frame, _ = client.search_runs_frame([exp], order_by=["metrics.acc ASC"])
    assert list(frame.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri",
                                       "start_time", "end_time"]
    assert list(frame["metrics.acc"]) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert str(frame["start_time"].dtype).startswith("datetime64")


def test_update_run_and_deletion(client, request):
    exp = _experiment(client, request)
    rid = client.create_run(exp, run_name="before").info.run_id
    info = client.update_run_info(rid, status="KILLED", end_time=123, run_name="after")
    assert (info.status, info.end_time, info.run_name) == ("KILLED", 123, "after")
    client.delete_run(rid)
    assert client.get_run_info(rid).lifecycle_stage == "deleted"
    client.restore_run(rid)
    assert client.get_run_info(rid).lifecycle_stage == "active"


def test_not_found_is_the_same_error(client):
    with pytest.raises(ResourceNotFoundError):
        client.get_run("0" * 32)
    with pytest.raises(ResourceNotFoundError):
        client.get_registered_model("no-such-model")
    with pytest.raises(ResourceNotFoundError):
        client.get_logged_model("m-" + "0" * 32)


def test_registry(client, request):
    exp = _experiment(client, request)
    rid = client.create_run(exp).info.run_id
    name = f"model-{request.node.name}-{id(client)}".replace("[", "-").replace("]", "")
    client.create_registered_model(name, tags={"k": "v"}, description="d")
    v1 = client.create_model_version(name, f"runs:/{rid}/model", run_id=rid)
    v2 = client.create_model_version(name, f"runs:/{rid}/model", run_id=rid)
    assert (str(v1.version), str(v2.version)) == ("1", "2")
    client.set_registered_model_alias(name, "champion", v2.version)
    assert str(client.get_model_version_by_alias(name, "champion").version) == "2"
    client.set_model_version_tag(name, v1.version, "stage", "old")
    assert client.get_model_version(name, v1.version).tags == {"stage": "old"}
    found = client.search_model_versions(f"name = '{name}'")
    assert sorted(str(v.version) for v in found) == ["1", "2"]
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    client.delete_registered_model_alias(name, "champion")
    assert client.get_registered_model(name).aliases == {}


def test_logged_models(client, request):
    exp = _experiment(client, request)
    rid = client.create_run(exp).info.run_id
    model = client.create_logged_model(exp, name="net", source_run_id=rid, tags={"a": "1"},
                                       params={"depth": "3"})
    assert model.model_id.startswith("m-") and model.status == "PENDING"
    client.set_logged_model_tags(model.model_id, {"b": "2"})
    client.delete_logged_model_tag(model.model_id, "a")
    client.log_logged_model_metrics(model.model_id,
                                    [LoggedModelMetric("auc", 0.8, 1000, 1, run_id=rid)])
    client.log_model_outputs(rid, [(model.model_id, 0)])
    ready = client.finalize_logged_model(model.model_id, "READY")
    assert ready.status == "READY"
    got = client.get_logged_model(model.model_id)
    assert got.tags.get("b") == "2" and "a" not in got.tags and got.params == {"depth": "3"}
    assert [(m.key, m.value) for m in got.metrics] == [("auc", 0.8)]
    found = client.search_logged_models([exp], filter_string="name = 'net'")
    assert [m.model_id for m in found] == [model.model_id]
    assert client.get_model_outputs([rid]) == {rid: [(model.model_id, 0)]}
    client.delete_logged_model(model.model_id)
    with pytest.raises(ResourceNotFoundError):
        client.get_logged_model(model.model_id)


def test_dataset_inputs(client, request):
    exp = _experiment(client, request)
    rid = client.create_run(exp).info.run_id
    item = DatasetInput(Dataset("iris", "abc123", "local", '{"uri": "/tmp/iris.csv"}'),
                        {"mlflow.data.context": "train"})
    client.log_inputs(rid, [item])
    got = client.get_run_inputs(rid)
    assert [(d.dataset.name, d.dataset.digest, d.tags) for d in got] == [
        ("iris", "abc123", {"mlflow.data.context": "train"})]
    assert list(client.get_dataset_inputs([rid])) == [rid]


def test_errors_are_kernelflow_errors(client, request):
    exp = _experiment(client, request)
    with pytest.raises(KernelflowError):
        client.search_runs([exp], "metrics.acc >>> 1")
