"""kernelflow's own SDK with an ``http://`` tracking URI (RestStore) against the real server."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError, ResourceExistsError, ResourceNotFoundError


@pytest.fixture
def remote(dashboard_server):
    """A kernelflow Client over HTTP, and one on the server's SQLite file to check against."""
    client = kernelflow.Client(dashboard_server.url)
    yield client, kernelflow.Client(dashboard_server.db_uri)
    client.flush()


def test_runs_params_tags_and_many_metrics_over_http(remote):
    client, local = remote
    exp_id = client.create_experiment("sdk-http", tags={"k": "v"})
    run = client.create_run(exp_id, run_name="remote")
    rid = run.info.run_id
    for step in range(2500):
        client.log_metric(rid, "loss", 1.0 / (step + 1), step=step)
    client.log_metric(rid, "odd", float("nan"), step=0)
    client.log_batch(rid, params=[kernelflow.entities.Param(f"p{i}", i) for i in range(100)])
    client.log_param(rid, "p100", "x")
    client.set_tag(rid, "stage", "dev")
    client.set_tag(rid, "gone", "soon")
    client.delete_tag(rid, "gone")
    client.set_terminated(rid)

    seen = local.get_run(rid)
    assert seen.info.status == "FINISHED" and seen.info.run_name == "remote"
    assert len(seen.data.params) == 101 and seen.data.params["p7"] == "7"
    assert seen.data.tags["stage"] == "dev" and "gone" not in seen.data.tags
    history = local.get_metric_history(rid, "loss")
    assert np.array_equal(history.steps, np.arange(2500))
    assert math.isnan(local.get_run(rid).data.metrics["odd"])
    over_http = client.get_metric_history(rid, "loss")
    assert np.allclose(over_http.values, history.values) and len(over_http) == 2500
    assert client.get_experiment(exp_id).tags == {"k": "v"}


def test_params_cannot_change_over_http(remote):
    client, _ = remote
    rid = client.create_run(client.create_experiment("sdk-params")).info.run_id
    client.log_param(rid, "lr", 0.1, synchronous=True)
    with pytest.raises(InvalidParameterError, match="already"):
        client.log_param(rid, "lr", 0.2)


def test_errors_keep_their_kind_over_http(remote):
    client, _ = remote
    with pytest.raises(ResourceNotFoundError, match="No run"):
        client.get_run("0" * 32)
    client.create_experiment("sdk-dupe")
    with pytest.raises(ResourceExistsError):
        client.create_experiment("sdk-dupe")
    with pytest.raises(InvalidParameterError):
        client.search_runs(["0"], filter_string="metrics.x >>> 1")
    assert client.get_experiment_by_name("no-such-experiment") is None


def test_search_paging_count_and_columns_over_http(remote):
    client, _ = remote
    exp_id = client.create_experiment("sdk-search")
    for i in range(5):
        rid = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        client.log_metric(rid, "acc", i / 10)
        client.set_terminated(rid)
    first = client.search_runs(exp_id, "metrics.acc >= 0.1", order_by=["metrics.acc DESC"],
                               max_results=3)
    assert [r.info.run_name for r in first] == ["r4", "r3", "r2"] and first.token
    rest = client.search_runs(exp_id, "metrics.acc >= 0.1", order_by=["metrics.acc DESC"],
                              max_results=3, page_token=first.token)
    assert [r.info.run_name for r in rest] == ["r1"] and rest.token is None
    assert client.count_runs([exp_id], "metrics.acc >= 0.1") == 4
    cols, _ = client.search_runs_columns([exp_id], max_results=10)
    assert sorted(cols["metrics.acc"]) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert client.count_runs_by_experiment()[exp_id] == 5


def test_artifacts_over_http(remote, tmp_path):
    client, local = remote
    rid = client.create_run(client.create_experiment("sdk-artifacts")).info.run_id
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("A")
    (tmp_path / "d" / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    client.log_artifacts(rid, str(tmp_path / "d"), "data")
    client.log_text(rid, "hi", "notes/hi.txt")
    assert [(f.path, f.is_dir) for f in client.list_artifacts(rid)] == [
        ("data", True), ("notes", True)]
    assert [f.path for f in client.list_artifacts(rid, "data")] == ["data/sub", "data/a.txt"]
    assert [f.path for f in local.list_artifacts(rid, "data/sub")] == ["data/sub/b.bin"]
    folder = client.download_artifacts(rid, "data", str(tmp_path / "out"))
    assert open(f"{folder}/sub/b.bin", "rb").read() == b"\x00\x01" * 1000
    assert open(client.download_artifacts(rid, "notes/hi.txt")).read() == "hi"
    with pytest.raises(InvalidParameterError):
        client.log_artifact(rid, str(tmp_path / "d" / "a.txt"), "../escape")


def test_fluent_api_over_http(dashboard_server, monkeypatch):
    from kernelflow import fluent

    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    kernelflow.set_tracking_uri(dashboard_server.url)
    try:
        kernelflow.set_experiment("sdk-fluent")
        with kernelflow.start_run(run_name="fluent") as run:
            kernelflow.log_params({"a": 1})
            kernelflow.log_metric("m", 2.0)
        seen = kernelflow.Client(dashboard_server.db_uri).get_run(run.info.run_id)
        assert seen.data.params == {"a": "1"} and seen.data.metrics == {"m": 2.0}
        assert seen.info.status == "FINISHED"
    finally:
        kernelflow.config._tracking_uri = None
        kernelflow.client.reset_default_client()


def test_registry_over_http(remote):
    client, local = remote
    rid = client.create_run(client.create_experiment("sdk-registry")).info.run_id
    client.create_registered_model("remote-model", tags={"t": "1"})
    mv = client.create_model_version("remote-model", f"runs:/{rid}/model", run_id=rid)
    client.set_registered_model_alias("remote-model", "best", mv.version)
    assert client.get_model_version_by_alias("remote-model", "best").version == "1"
    assert local.get_registered_model("remote-model").aliases == {"best": "1"}
    assert [m.name for m in client.search_registered_models("name = 'remote-model'")] == [
        "remote-model"]


def test_latest_metric_keeps_its_step_and_timestamp_over_http(remote):
    client, _ = remote
    run = client.create_run("0")
    client.log_metric(run.info.run_id, "m", 1.0, timestamp=1111, step=4)
    client.log_metric(run.info.run_id, "m", 2.0, timestamp=2222, step=9)
    latest = client.get_run(run.info.run_id).data.latest_metrics["m"]
    assert (latest.value, latest.step, latest.timestamp) == (2.0, 9, 2222)
