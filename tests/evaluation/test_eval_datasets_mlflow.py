"""The official mlflow client's ``mlflow.genai.datasets`` against a kernelflow server."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.mlflow


@pytest.fixture
def mlflow(eval_api_server, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", eval_api_server)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(eval_api_server)
    yield mlflow


def test_create_merge_read_search(mlflow, eval_api_server):
    from mlflow.genai import datasets

    exp = mlflow.set_experiment("genai-datasets").experiment_id
    ds = datasets.create_dataset(name="support-qa", experiment_id=exp,
                                 tags={"team": "ml", "stage": "dev"})
    assert ds.name == "support-qa" and ds.tags["team"] == "ml"
    ds.merge_records([
        {"inputs": {"question": "What is MLflow?"},
         "expectations": {"expected_response": "A platform"}},
        {"inputs": {"question": "What is kernelflow?"}, "tags": {"topic": "us"}},
    ])
    ds.merge_records([{"inputs": {"question": "What is MLflow?"},
                       "expectations": {"expected_facts": ["open source"]}}])
    df = datasets.get_dataset(dataset_id=ds.dataset_id).to_df()
    assert len(df) == 2
    row = df[df["inputs"].apply(lambda x: x["question"] == "What is MLflow?")].iloc[0]
    assert row["expectations"] == {"expected_response": "A platform",
                                   "expected_facts": ["open source"]}
    by_name = datasets.get_dataset(name="support-qa")
    assert by_name.dataset_id == ds.dataset_id and by_name.digest
    found = datasets.search_datasets(filter_string="tags.stage = 'dev'")
    assert [d.name for d in found] == ["support-qa"]
    assert [d.name for d in datasets.search_datasets(experiment_ids=[exp])] == ["support-qa"]
    datasets.set_dataset_tags(dataset_id=ds.dataset_id, tags={"stage": "prod"})
    datasets.delete_dataset_tag(dataset_id=ds.dataset_id, key="team")
    tags = datasets.get_dataset(dataset_id=ds.dataset_id).tags
    assert tags["stage"] == "prod" and "team" not in tags
    assert ds.created_by == tags.get("mlflow.user", ds.created_by)


def test_the_rest_shapes(mlflow, eval_api_server):
    from mlflow.genai import datasets

    ds = datasets.create_dataset(name="shared", experiment_id="0")
    ds.merge_records([{"inputs": {"x": 1}, "expectations": {"y": 2}}])
    body = requests.get(f"{eval_api_server}/api/3.0/mlflow/datasets/{ds.dataset_id}",
                        timeout=10).json()
    assert body["dataset"]["name"] == "shared" and body["dataset"]["experiment_ids"] == ["0"]
    got = requests.get(f"{eval_api_server}/api/3.0/mlflow/datasets/{ds.dataset_id}/records",
                       timeout=10).json()
    assert '"y": 2' in got["records"]


def test_errors_have_mlflow_shapes(mlflow, eval_api_server):
    from mlflow.exceptions import MlflowException
    from mlflow.genai import datasets

    with pytest.raises(MlflowException, match="does not exist"):
        datasets.get_dataset(dataset_id="d-nope")
    datasets.create_dataset(name="twice", experiment_id="0")
    with pytest.raises(MlflowException, match="already exists"):
        datasets.create_dataset(name="twice", experiment_id="0")
    r = requests.post(f"{eval_api_server}/api/3.0/mlflow/datasets/nope/frob", json={}, timeout=10)
    assert r.status_code == 404 and r.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_kernelflow_client_over_http(tracking_uri, eval_api_server, monkeypatch):
    """kf.genai.datasets on an http:// tracking URI: the same calls through the REST API."""
    import kernelflow as kf
    from kernelflow.genai import datasets

    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", eval_api_server)
    kf.set_tracking_uri(eval_api_server)  # the tracking_uri fixture resets it afterwards
    ds = datasets.create_dataset("over-http", experiment_id="0", tags={"via": "rest"})
    ds.merge_records([{"inputs": {"q": i}, "expectations": {"a": i}} for i in range(3)])
    ds.merge_records([{"inputs": {"q": 0}, "expectations": {"b": 0}}])
    assert len(ds) == 3 and ds.tags["via"] == "rest"
    assert next(r for r in ds.records if r["inputs"] == {"q": 0})["expectations"] == \
        {"a": 0, "b": 0}
    assert [v["record_count"] for v in ds.versions()] == [0, 3, 3]
    first = ds.versions()[1]["digest"]
    assert next(r for r in ds.at(first).records if r["inputs"] == {"q": 0})["expectations"] \
        == {"a": 0}
    assert datasets.get_dataset(name="over-http").digest == ds.digest
    assert [d.name for d in datasets.search_datasets(filter_string="tags.via = 'rest'")] \
        == ["over-http"]
    datasets.delete_dataset(dataset_id=ds.dataset_id)
    with pytest.raises(kf.ResourceNotFoundError):
        datasets.get_dataset(dataset_id=ds.dataset_id)


def test_records_and_experiments_from_mlflow(mlflow, eval_api_server):
    from mlflow.genai import datasets

    other = mlflow.create_experiment("genai-datasets-other")
    ds = datasets.create_dataset(name="editable", experiment_id="0")
    ds.merge_records([{"inputs": {"n": i}} for i in range(3)])
    ids = list(ds.to_df()["dataset_record_id"])
    assert ds.delete_records(ids[:2]) == 2
    assert len(ds.to_df()) == 1
    assert other in datasets.add_dataset_to_experiments(ds.dataset_id, [other]).experiment_ids
    left = datasets.remove_dataset_from_experiments(ds.dataset_id, ["0"])
    assert left.experiment_ids == [other]
    datasets.delete_dataset(dataset_id=ds.dataset_id)
    assert datasets.search_datasets(filter_string="name = 'editable'") == []
