"""The side panel's API (kernelflow_lab.handlers) on a real Jupyter server (pytest-jupyter)."""

from __future__ import annotations

import json
import os

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def jp_server_config(tracking_uri):
    # tracking_uri first: the extension reads KERNELFLOW_TRACKING_URI when it loads
    return {"ServerApp": {"jpserver_extensions": {"kernelflow_lab": True}}}


@pytest.fixture
def seeded(client):
    """Two experiments; the one with the newest run is 'digits' (one run still RUNNING)."""
    other = client.create_experiment("older")
    old = client.create_run(other, run_name="old-run", start_time=1_000)
    client.set_terminated(old.info.run_id, end_time=2_000)
    digits = client.create_experiment("digits")
    runs = {}
    for i, (name, status) in enumerate([("sgd-a", "FINISHED"), ("sgd-b", "FAILED"),
                                        ("sgd-c", "RUNNING")]):
        run = client.create_run(digits, run_name=name, start_time=10_000 + i * 1_000)
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1))
        client.log_metric(run.info.run_id, "acc", 0.5 + i / 10)
        if i == 0:
            client.log_metric(run.info.run_id, "rare", 1.0)
            client.log_metric(run.info.run_id, "val", float("nan"))
            client.log_metric(run.info.run_id, "val2", 3.0)
            client.log_metric(run.info.run_id, "val3", 3.0)
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status=status, end_time=20_000 + i)
        runs[name] = run.info.run_id
    client.flush()
    return {"digits": digits, "older": other, "runs": runs}


async def get_json(jp_fetch, *parts, **params):
    response = await jp_fetch("kernelflow-lab", *parts, params=params)
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


async def test_experiments_lists_counts_and_the_current_one(jp_fetch, seeded):
    body = await get_json(jp_fetch, "experiments")
    by_name = {e["name"]: e for e in body["experiments"]}
    assert by_name["digits"]["runs"] == 3
    assert by_name["older"]["runs"] == 1
    assert body["current"] == seeded["digits"]  # where the newest run started
    assert body["store"] == os.environ["KERNELFLOW_TRACKING_URI"]


async def test_runs_are_newest_first_with_key_metrics(jp_fetch, seeded):
    body = await get_json(jp_fetch, "runs", experiment_id=seeded["digits"])
    assert body["experiment"] == {"id": seeded["digits"], "name": "digits"}
    assert [r["name"] for r in body["runs"]] == ["sgd-c", "sgd-b", "sgd-a"]
    assert [r["status"] for r in body["runs"]] == ["RUNNING", "FAILED", "FINISHED"]
    # the metrics most runs have, at most three; rarer ones stay out of the panel
    assert body["key_metrics"][:2] == ["acc", "loss"]
    assert len(body["key_metrics"]) == 3
    running = body["runs"][0]
    assert running["id"] == seeded["runs"]["sgd-c"]
    assert running["end_time"] is None and running["start_time"] == 12_000
    assert running["metrics"] == {"acc": pytest.approx(0.7), "loss": pytest.approx(1 / 3)}
    assert isinstance(body["now"], int)


async def test_a_non_finite_metric_is_sent_as_text(jp_fetch, client, seeded):
    run = client.create_run(seeded["older"], run_name="nan-run", start_time=5_000)
    client.log_metric(run.info.run_id, "loss", float("nan"))
    client.flush()
    body = await get_json(jp_fetch, "runs", experiment_id=seeded["older"])
    assert body["runs"][0]["metrics"] == {"loss": "nan"}


async def test_a_newly_logged_run_shows_on_the_next_request(jp_fetch, client, seeded):
    before = await get_json(jp_fetch, "runs", experiment_id=seeded["digits"])
    run = client.create_run(seeded["digits"], run_name="fresh", start_time=99_000)
    client.log_metric(run.info.run_id, "loss", 0.01)
    client.flush()
    after = await get_json(jp_fetch, "runs", experiment_id=seeded["digits"])
    assert len(after["runs"]) == len(before["runs"]) + 1
    assert after["runs"][0]["name"] == "fresh"
    assert after["runs"][0]["metrics"]["loss"] == pytest.approx(0.01)


async def test_max_results_limits_the_runs(jp_fetch, seeded):
    body = await get_json(jp_fetch, "runs", experiment_id=seeded["digits"], max_results="2")
    assert [r["name"] for r in body["runs"]] == ["sgd-c", "sgd-b"]


@pytest.mark.parametrize("params, status, words", [
    ({"experiment_id": "424242"}, 404, "424242"),
    ({}, 400, "experiment_id"),
    ({"experiment_id": "1", "max_results": "many"}, 400, "max_results"),
    ({"experiment_id": "1", "max_results": "0"}, 400, "max_results"),
])
async def test_bad_requests_say_what_to_fix(jp_fetch, seeded, params, status, words):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("kernelflow-lab", "runs", params=params)
    assert info.value.code == status
    body = json.loads(info.value.response.body)
    assert words in body["message"]
    assert "Traceback" not in body["message"]


async def test_requests_without_jupyter_credentials_are_refused(jp_fetch, seeded):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("kernelflow-lab", "experiments", headers={"Authorization": ""})
    assert info.value.code == 403


async def test_info_gives_the_same_origin_dashboard_path(jp_fetch, jp_base_url, tracking_uri):
    body = await get_json(jp_fetch, "info")
    assert body["dashboard"] == jp_base_url.rstrip("/") + "/kernelflow/"
    assert body["store"] == tracking_uri


async def test_a_store_that_does_not_exist_yet_reads_empty_and_is_not_created(
        jp_fetch, tracking_uri):
    path = tracking_uri[len("sqlite:///"):]
    assert not os.path.exists(path)
    body = await get_json(jp_fetch, "experiments")
    assert body == {"experiments": [], "current": None, "store": tracking_uri}
    assert not os.path.exists(path)


async def test_kernels_learn_where_the_dashboard_is(jp_serverapp, jp_base_url, tracking_uri):
    # kernels started by this server inherit its environment
    assert os.environ["KERNELFLOW_LAB_DASHBOARD"] == jp_base_url.rstrip("/") + "/kernelflow/"
    assert os.environ["KERNELFLOW_LAB_STORE"] == tracking_uri
