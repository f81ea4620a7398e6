"""Evaluation datasets in the SQLite file: create, merge by inputs, versions by digest, search."""

from __future__ import annotations

import pytest

import kernelflow as kf
from kernelflow.genai import datasets


def test_create_merge_and_read(tracking_uri):
    kf.set_experiment("qa-exp")
    ds = datasets.create_dataset("qa", tags={"team": "ml"})
    assert ds.experiment_ids == [kf.get_experiment_by_name("qa-exp").experiment_id]
    empty = ds.digest
    ds.merge_records([
        {"inputs": {"question": "2+2?"}, "expectations": {"expected_response": "4"}},
        {"inputs": {"question": "capital of France?"}, "tags": {"topic": "geo"}},
    ])
    assert len(ds) == 2 and ds.digest != empty
    ds.merge_records([{"inputs": {"question": "2+2?"}, "expectations": {"expected_facts": ["4"]}},
                      {"inputs": {"question": "new?"}}])
    records = {r["inputs"]["question"]: r for r in ds.records}
    assert len(records) == 3
    assert records["2+2?"]["expectations"] == {"expected_response": "4", "expected_facts": ["4"]}
    assert records["capital of France?"]["tags"] == {"topic": "geo"}
    df = ds.to_df()
    assert list(df["inputs"])[0] == {"question": "2+2?"}
    assert ds.profile == '{"num_records": 3}'


def test_versions_follow_the_content(tracking_uri):
    ds = datasets.create_dataset("versions", experiment_id="0")
    ds.merge_records([{"inputs": {"q": 1}}])
    first = ds.digest
    ds.merge_records([{"inputs": {"q": 1}}])  # same content: same digest, no new version
    assert ds.digest == first
    ds.merge_records([{"inputs": {"q": 2}}])
    versions = ds.versions()
    assert [v["record_count"] for v in versions] == [0, 1, 2]
    assert versions[-1]["digest"] == ds.digest and versions[1]["digest"] == first
    c = kf.Client()
    rid = next(r["dataset_record_id"] for r in ds.records if r["inputs"] == {"q": 2})
    assert c.delete_dataset_records(ds.dataset_id, [rid]) == 1
    assert c.get_dataset(ds.dataset_id)["digest"] == first  # back to the earlier content


def test_an_old_version_reads_back_and_evaluates(tracking_uri):
    ds = datasets.create_dataset("snapshots", experiment_id="0")
    ds.merge_records([{"inputs": {"x": 1}, "expectations": {"y": 2}}])
    v1 = ds.digest
    ds.merge_records([{"inputs": {"x": 1}, "expectations": {"y": 3}}, {"inputs": {"x": 2}}])
    old = ds.at(v1)
    assert old.records == [{"inputs": {"x": 1}, "expectations": {"y": 2}}]
    assert len(ds.at(ds.digest)) == 2

    @kf.genai.scorer
    def right(outputs, expectations):
        return outputs == expectations["y"]

    r = kf.genai.evaluate(old, predict_fn=lambda x: 2 * x, scorers=[right])
    assert r.metrics["right/mean"] == 1.0
    (used,) = kf.Client().get_run_inputs(r.run_id)
    assert (used.dataset.name, used.dataset.digest) == ("snapshots", v1)
    assert used.tags == {"mlflow.data.context": "evaluation"}
    with pytest.raises(kf.ResourceNotFoundError, match="never had digest"):
        ds.at("0000")


def test_get_search_tags_experiments_delete(tracking_uri):
    a = datasets.create_dataset("alpha", experiment_id="0", tags={"env": "prod"})
    datasets.create_dataset("beta", experiment_id="0", tags={"env": "dev"})
    other = kf.create_experiment("other")
    assert datasets.get_dataset(name="alpha").dataset_id == a.dataset_id
    assert datasets.get_dataset(dataset_id=a.dataset_id).name == "alpha"
    assert [d.name for d in datasets.search_datasets(filter_string="tags.env = 'prod'")] == \
        ["alpha"]
    assert [d.name for d in datasets.search_datasets(order_by=["name DESC"])] == ["beta", "alpha"]
    assert [d.name for d in datasets.search_datasets(filter_string="name LIKE 'b%'")] == ["beta"]
    assert len(datasets.search_datasets(max_results=1)) == 1
    c = kf.Client()
    page, token = c.search_datasets(max_results=1, order_by=["name ASC"])
    assert [d["name"] for d in page] == ["alpha"] and token
    assert [d["name"] for d in c.search_datasets(max_results=1, order_by=["name ASC"],
                                                 page_token=token)[0]] == ["beta"]
    a.set_tags({"env": None, "owner": "ann"})
    assert a.tags == {"owner": "ann"}
    c.add_dataset_to_experiments(a.dataset_id, [other])
    assert datasets.search_datasets(experiment_ids=other)[0].name == "alpha"
    c.remove_dataset_from_experiments(a.dataset_id, [other])
    assert c.get_dataset_experiment_ids(a.dataset_id) == ["0"]
    datasets.delete_dataset(name="alpha")
    with pytest.raises(kf.ResourceNotFoundError):
        datasets.get_dataset(name="alpha")


def test_evaluate_a_dataset(tracking_uri):
    ds = datasets.create_dataset("to-evaluate", experiment_id="0")
    ds.merge_records([{"inputs": {"x": i}, "expectations": {"double": 2 * i}} for i in range(4)])

    @kf.genai.scorer
    def doubled(outputs, expectations):
        return outputs == expectations["double"]

    r = kf.genai.evaluate(ds, predict_fn=lambda x: x * 2 if x != 3 else 0, scorers=[doubled])
    assert r.metrics["doubled/mean"] == pytest.approx(0.75)


def test_clear_errors(tracking_uri):
    datasets.create_dataset("dup", experiment_id="0")
    with pytest.raises(kf.ResourceExistsError, match="already exists"):
        datasets.create_dataset("dup", experiment_id="0")
    with pytest.raises(kf.ResourceNotFoundError, match="Experiment '999'"):
        datasets.create_dataset("x", experiment_id="999")
    ds = datasets.get_dataset(name="dup")
    with pytest.raises(kf.InvalidParameterError, match="'inputs'"):
        ds.merge_records([{"expectations": {"a": 1}}])
    with pytest.raises(kf.InvalidParameterError, match="Cannot parse dataset filter"):
        datasets.search_datasets(filter_string="name ~ 'x'")
    with pytest.raises(kf.InvalidParameterError, match="exactly one"):
        datasets.get_dataset()
