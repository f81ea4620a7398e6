"""The fluent tracking API against a real SQLite file."""

from __future__ import annotations

import math
import time

import pytest

import kernelflow as kf
from kernelflow.errors import (
    InvalidParameterError,
    InvalidStateError,
    KernelflowError,
    ResourceExistsError,
    ResourceNotFoundError,
)


def test_set_experiment_creates_and_reuses(tracking_uri):
    exp = kf.set_experiment("alpha")
    assert exp.name == "alpha"
    assert kf.set_experiment("alpha").experiment_id == exp.experiment_id
    assert kf.get_experiment_by_name("alpha").experiment_id == exp.experiment_id
    assert kf.get_experiment(exp.experiment_id).name == "alpha"


def test_create_experiment_twice_is_a_clear_error(tracking_uri):
    kf.create_experiment("dup")
    with pytest.raises(ResourceExistsError, match="already exists"):
        kf.create_experiment("dup")


def test_default_experiment_exists(tracking_uri):
    assert kf.get_experiment("0").name == "Default"
    with pytest.raises(InvalidParameterError):
        kf.delete_experiment("0")


def test_delete_and_restore_experiment(tracking_uri):
    exp_id = kf.create_experiment("gone")
    with kf.start_run(experiment_id=exp_id) as run:
        kf.log_metric("m", 1.0)
    kf.delete_experiment(exp_id)
    assert [e.name for e in kf.search_experiments()] == ["Default"]
    assert {e.name for e in kf.search_experiments(view_type="ALL")} == {"Default", "gone"}
    assert kf.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(InvalidParameterError, match="deleted"):
        kf.set_experiment("gone")
    kf.restore_experiment(exp_id)
    assert kf.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert kf.set_experiment("gone").experiment_id == exp_id


def test_search_experiments_by_name(tracking_uri):
    for name in ("vision-a", "vision-b", "nlp"):
        kf.create_experiment(name)
        time.sleep(0.002)
    names = [e.name for e in kf.search_experiments(filter_string="name LIKE 'vision%'")]
    assert names == ["vision-b", "vision-a"]  # newest first, as MLflow
    assert [e.name for e in kf.search_experiments(filter_string="name = 'nlp'")] == ["nlp"]


def test_run_lifecycle_and_data(tracking_uri):
    kf.set_experiment("life")
    with kf.start_run(run_name="first", tags={"team": "a"}) as run:
        assert kf.active_run().info.run_id == run.info.run_id
        kf.log_param("lr", 0.1)
        kf.log_params({"opt": "adam", "layers": 3})
        kf.log_metric("loss", 0.5, step=1)
        kf.log_metrics({"loss": 0.25, "acc": 0.9}, step=2)
        kf.set_tag("stage", "dev")
        kf.set_tags({"a": 1, "b": "x"})
    assert kf.active_run() is None
    got = kf.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= got.info.start_time
    assert got.info.run_name == "first"
    assert got.data.params == {"lr": "0.1", "opt": "adam", "layers": "3"}
    assert got.data.metrics == {"loss": 0.25, "acc": 0.9}
    assert got.data.tags["team"] == "a" and got.data.tags["a"] == "1"
    assert got.data.tags["mlflow.runName"] == "first"


def test_run_that_raises_ends_failed(tracking_uri):
    with pytest.raises(ZeroDivisionError):
        with kf.start_run() as run:
            kf.log_metric("x", 1)
            1 / 0  # noqa: B018
    assert kf.get_run(run.info.run_id).info.status == "FAILED"
    assert kf.active_run() is None


def test_keyboard_interrupt_ends_killed(tracking_uri):
    with pytest.raises(KeyboardInterrupt):
        with kf.start_run() as run:
            raise KeyboardInterrupt
    assert kf.get_run(run.info.run_id).info.status == "KILLED"


def test_nested_runs_record_parent(tracking_uri):
    with kf.start_run(run_name="parent") as parent:
        with kf.start_run(run_name="child", nested=True) as child:
            kf.log_metric("c", 1)
    got = kf.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    frame = kf.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert list(frame["run_id"]) == [child.info.run_id]


def test_second_active_run_needs_nested(tracking_uri):
    with kf.start_run():
        with pytest.raises(KernelflowError, match="already active"):
            kf.start_run()


def test_resume_run_by_id(tracking_uri):
    with kf.start_run() as run:
        kf.log_metric("m", 1, step=0)
    with kf.start_run(run_id=run.info.run_id):
        kf.log_metric("m", 2, step=1)
    hist = kf.get_metric_history(run.info.run_id, "m")
    assert [m.value for m in hist] == [1.0, 2.0]
    assert kf.get_run(run.info.run_id).info.status == "FINISHED"


def test_end_run_status(tracking_uri):
    run = kf.start_run()
    kf.end_run(status="KILLED")
    assert kf.get_run(run.info.run_id).info.status == "KILLED"
    kf.end_run()  # nothing active: a no-op


def test_log_call_without_run_starts_one(tracking_uri):
    kf.log_metric("auto", 1.0)
    run = kf.active_run()
    assert run is not None
    kf.end_run()
    assert kf.get_run(run.info.run_id).data.metrics == {"auto": 1.0}


def test_param_is_immutable(tracking_uri):
    with kf.start_run() as run:
        kf.log_param("p", 1)
        kf.log_param("p", 1)  # the same value again is fine
        with pytest.raises(InvalidParameterError, match="cannot change"):
            kf.log_param("p", 2)
        kf.log_metric("after", 3)  # earlier data and later logging are unaffected
    data = kf.get_run(run.info.run_id).data
    assert data.params == {"p": "1"} and data.metrics == {"after": 3.0}


def test_delete_tag(tracking_uri):
    with kf.start_run() as run:
        kf.set_tag("t", "v")
        kf.delete_tag("t")
        with pytest.raises(ResourceNotFoundError):
            kf.delete_tag("never")
    assert "t" not in kf.get_run(run.info.run_id).data.tags


def test_nan_and_inf_metrics(tracking_uri):
    with kf.start_run() as run:
        kf.log_metric("nan", float("nan"))
        kf.log_metric("inf", float("inf"))
        kf.log_metric("ninf", float("-inf"))
    metrics = kf.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf


def test_numpy_and_bool_metric_values(tracking_uri):
    import numpy as np
    with kf.start_run() as run:
        kf.log_metric("f32", np.float32(0.5))
        kf.log_metric("i64", np.int64(3))
        kf.log_metric("arr0", np.array(2.0))
    assert kf.get_run(run.info.run_id).data.metrics == {"f32": 0.5, "i64": 3.0, "arr0": 2.0}


@pytest.mark.parametrize("value", ["0.5", None, [1, 2], {"a": 1}, object()])
def test_non_numeric_metric_is_a_clear_error(tracking_uri, value):
    with kf.start_run() as run:
        kf.log_metric("ok", 1.0)
        with pytest.raises(InvalidParameterError, match="must be numbers"):
            kf.log_metric("bad", value)
    assert kf.get_run(run.info.run_id).data.metrics == {"ok": 1.0}


@pytest.mark.parametrize("key", ["", "a" * 251, "bad!key", "../up", "/abs", 5, None])
def test_invalid_keys(tracking_uri, key):
    with kf.start_run():
        with pytest.raises(InvalidParameterError):
            kf.log_metric(key, 1.0)
        with pytest.raises(InvalidParameterError):
            kf.log_param(key, 1)
        with pytest.raises(InvalidParameterError):
            kf.set_tag(key, 1)


def test_valid_keys_with_all_allowed_characters(tracking_uri):
    key = "a/b.c-d e_f"
    with kf.start_run() as run:
        kf.log_metric(key, 1.0)
        kf.log_param(key, "v")
    assert kf.get_run(run.info.run_id).data.params == {key: "v"}


def test_long_param_value(tracking_uri):
    with kf.start_run() as run:
        kf.log_param("ok", "x" * 6000)
        with pytest.raises(InvalidParameterError, match="6000"):
            kf.log_param("long", "x" * 6001)
    assert len(kf.get_run(run.info.run_id).data.params["ok"]) == 6000


def test_unknown_run_id_is_a_clear_error(tracking_uri):
    with pytest.raises(ResourceNotFoundError, match="No run with id"):
        kf.get_run("0" * 32)
    with pytest.raises(ResourceNotFoundError):
        kf.log_metric("m", 1.0, run_id="f" * 32)
    with pytest.raises(ResourceNotFoundError):
        kf.start_run(run_id="deadbeef")


def test_bad_step(tracking_uri):
    with kf.start_run():
        with pytest.raises(InvalidParameterError, match="step"):
            kf.log_metric("m", 1.0, step="one")


def test_delete_and_restore_run(tracking_uri):
    with kf.start_run() as run:
        kf.log_metric("m", 1)
    kf.delete_run(run.info.run_id)
    assert kf.search_runs(experiment_ids=["0"]).empty
    assert len(kf.search_runs(experiment_ids=["0"], run_view_type="DELETED_ONLY")) == 1
    with pytest.raises(InvalidStateError, match="deleted"):
        kf.Client().log_metric(run.info.run_id, "m", 2)
    kf.restore_run(run.info.run_id)
    assert len(kf.search_runs(experiment_ids=["0"])) == 1


def test_metric_history_order_and_values(tracking_uri):
    with kf.start_run() as run:
        for i in range(1000):
            kf.log_metric("loss", 1.0 / (i + 1), step=i, timestamp=1_000 + i)
    hist = kf.get_metric_history(run.info.run_id, "loss")
    assert len(hist) == 1000
    assert hist[0] == kf.Metric("loss", 1.0, 1000, 0)
    assert hist[-1].step == 999 and hist[-1].timestamp == 1999
    assert list(hist.steps[:3]) == [0, 1, 2]
    assert hist.to_pandas()["value"].iloc[9] == pytest.approx(0.1)
    assert kf.get_run(run.info.run_id).data.metrics["loss"] == pytest.approx(0.001)


def test_latest_value_is_the_highest_step(tracking_uri):
    with kf.start_run() as run:
        kf.log_metric("m", 5.0, step=10)
        kf.log_metric("m", 1.0, step=2)  # an older step logged later
    assert kf.get_run(run.info.run_id).data.metrics["m"] == 5.0


def test_search_runs_dataframe_shape(tracking_uri):
    kf.set_experiment("shape")
    for i in range(3):
        with kf.start_run(run_name=f"r{i}"):
            kf.log_param("i", i)
            kf.log_metric("acc", i / 10)
        time.sleep(0.002)  # distinct start times: ties are broken by run id, as in MLflow
    frame = kf.search_runs(experiment_names=["shape"])
    for col in ("run_id", "experiment_id", "status", "start_time", "end_time", "artifact_uri",
                "metrics.acc", "params.i", "tags.mlflow.runName"):
        assert col in frame.columns
    assert list(frame["tags.mlflow.runName"]) == ["r2", "r1", "r0"]  # newest first
    assert str(frame["start_time"].dtype).startswith("datetime64")
    ordered = kf.search_runs(experiment_names=["shape"], order_by=["metrics.acc ASC"])
    assert list(ordered["params.i"]) == ["0", "1", "2"]


def test_search_runs_list_output_and_paging(tracking_uri):
    for i in range(5):
        with kf.start_run():
            kf.log_metric("i", i)
    client = kf.Client()
    page1 = client.search_runs(["0"], max_results=2, order_by=["metrics.i ASC"])
    page2 = client.search_runs(["0"], max_results=2, order_by=["metrics.i ASC"], page_token=page1.token)
    page3 = client.search_runs(["0"], max_results=2, order_by=["metrics.i ASC"], page_token=page2.token)
    values = [r.data.metrics["i"] for r in [*page1, *page2, *page3]]
    assert values == [0, 1, 2, 3, 4]
    assert page3.token is None
    assert len(kf.search_runs(output_format="list")) == 5
    with pytest.raises(InvalidParameterError, match="page_token"):
        client.search_runs(["0"], page_token="garbage")


def test_search_all_experiments(tracking_uri):
    for name in ("a", "b"):
        kf.set_experiment(name)
        with kf.start_run():
            pass
    assert len(kf.search_runs(search_all_experiments=True)) == 2
    assert kf.search_runs(experiment_names=["missing"]).empty  # as MLflow: warned, not searched
    assert len(kf.search_runs(experiment_names=["missing", "a"])) == 1
    assert kf.Client().search_runs([]) == []  # no experiments, no runs


def test_sync_logging_mode_is_durable_at_once(tracking_uri):
    kf.set_sync_logging(True)
    try:
        with kf.start_run() as run:
            kf.log_metric("m", 1.0)
            writer = kf.Client()._writer
            assert writer.pending() == 0
    finally:
        kf.set_sync_logging(False)
    assert kf.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_client_explicit_ids(tracking_uri):
    c = kf.Client()
    exp_id = c.create_experiment("client")
    run = c.create_run(exp_id, run_name="explicit", tags={"k": "v"})
    c.log_param(run.info.run_id, "p", "1")
    c.log_metric(run.info.run_id, "m", 2.0, step=3)
    c.set_tag(run.info.run_id, "t", "x")
    c.log_batch(run.info.run_id, metrics=[kf.Metric("b", 1.0, 0, 0)], params=[kf.Param("q", "2")],
                tags=[kf.RunTag("u", "y")])
    c.set_terminated(run.info.run_id)
    got = c.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"p": "1", "q": "2"}
    assert got.data.metrics == {"m": 2.0, "b": 1.0}
    assert {"k", "t", "u"} <= set(got.data.tags)
    assert [r.info.run_id for r in c.search_runs([exp_id])] == [run.info.run_id]
    c.update_run(run.info.run_id, name="renamed")
    assert c.get_run(run.info.run_id).info.run_name == "renamed"
    c.rename_experiment(exp_id, "client2")
    assert c.get_experiment(exp_id).name == "client2"
    c.set_experiment_tag(exp_id, "owner", "me")
    assert c.get_experiment(exp_id).tags == {"owner": "me"}


def test_log_batch_limits(tracking_uri):
    c = kf.Client()
    run = c.create_run("0")
    with pytest.raises(InvalidParameterError, match="at most 1000 metrics"):
        c.log_batch(run.info.run_id, metrics=[kf.Metric("m", 1.0, 0, i) for i in range(1001)])
    with pytest.raises(InvalidParameterError, match="at most 100 params"):
        c.log_batch(run.info.run_id, params=[kf.Param(f"p{i}", "v") for i in range(101)])


def test_bad_experiment_id(tracking_uri):
    with pytest.raises(InvalidParameterError, match="whole numbers"):
        kf.get_experiment("abc")
    with pytest.raises(ResourceNotFoundError):
        kf.get_experiment("999")


def test_run_repr_html_escapes_user_strings(tracking_uri):
    with kf.start_run(run_name="<script>alert(1)</script>") as run:
        kf.log_param("p", "<i>x</i>")
    html = kf.get_run(run.info.run_id)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<i>" not in html


def test_experiment_keys_for_column_choosers(tracking_uri):
    kf.set_experiment("keys")
    with kf.start_run():
        kf.log_params({"b": 1, "a": 2})
        kf.log_metric("loss", 1.0)
    with kf.start_run() as gone:
        kf.log_param("deleted_only", 1)
    kf.delete_run(gone.info.run_id)
    exp_id = kf.get_experiment_by_name("keys").experiment_id
    keys = kf.Client().get_experiment_keys([exp_id])
    assert keys["params"] == ["a", "b"]
    assert keys["metrics"] == ["loss"]
    assert "mlflow.runName" in keys["tags"]


def test_run_data_keeps_latest_step_and_timestamp(tracking_uri):
    with kf.start_run() as run:
        kf.log_metric("m", 1.0, step=3, timestamp=1234)
        kf.log_metric("m", 0.5, step=7, timestamp=5678)
    latest = kf.get_run(run.info.run_id).data.latest_metrics["m"]
    assert (latest.value, latest.step, latest.timestamp) == (0.5, 7, 5678)


def test_start_run_inside_an_attached_notebook_run_makes_a_child(tracking_uri):
    from kernelflow import notebooks

    parent = kf.Client().create_run("0", run_name="notebook-run")
    notebooks.attach_run(parent.info.run_id)
    try:
        with kf.start_run(run_name="inner") as inner:
            kf.log_metric("m", 1.0)
        assert kf.get_run(inner.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    finally:
        notebooks._attached = None
        kf.end_run()


def test_reprs_of_search_results_and_entities(tracking_uri):
    with kf.start_run(run_name="<b>shown</b>") as run:
        kf.log_metric("acc", 0.5)
    runs = kf.Client().search_runs(["0"])
    page = runs._repr_html_()
    assert "&lt;b&gt;shown&lt;/b&gt;" in page and "<b>shown</b>" not in page
    assert "acc" in page
    assert kf.Client().search_experiments()._repr_html_() is None  # not runs: plain repr
    assert run.info.run_id in repr(kf.get_run(run.info.run_id))
    assert "Default" in repr(kf.get_experiment("0"))


def test_dataset_inputs_and_experiment_tag_deletion(tracking_uri):
    c = kf.Client()
    run = c.create_run("0")
    train = kf.DatasetInput(kf.Dataset("digits", "abc123", "local", '{"uri": "x.csv"}'),
                            {"mlflow.data.context": "train"})
    c.log_inputs(run.info.run_id, [train])
    c.log_inputs(run.info.run_id, [train])  # the same dataset again is kept once
    inputs = c.get_run_inputs(run.info.run_id)
    assert [(i.dataset.name, i.tags["mlflow.data.context"]) for i in inputs] == [("digits", "train")]
    with pytest.raises(InvalidParameterError):
        c.log_inputs(run.info.run_id, [kf.DatasetInput(kf.Dataset("n", "d" * 100, "local", "s"))])
    exp_id = c.create_experiment("tagged", tags={"a": "1", "b": "2"})
    c.delete_experiment_tag(exp_id, "a")
    assert c.get_experiment(exp_id).tags == {"b": "2"}
    with pytest.raises(ResourceNotFoundError):
        c.delete_experiment_tag(exp_id, "a")


def test_infinite_metrics_in_search_results(tracking_uri):
    with kf.start_run(run_name="up"):
        kf.log_metric("m", float("inf"))
    with kf.start_run(run_name="down"):
        kf.log_metric("m", float("-inf"))
    with kf.start_run(run_name="plain"):
        kf.log_metric("m", 1.5)
    frame = kf.search_runs(order_by=["attributes.run_name ASC"])
    assert list(frame["metrics.m"]) == [-math.inf, 1.5, math.inf]
    cols, _ = kf.Client().search_runs_columns(["0"], order_by=["attributes.run_name ASC"])
    assert cols["metrics.m"] == [-math.inf, 1.5, math.inf]


def test_log_batch_is_all_or_nothing(tracking_uri):
    c = kf.Client()
    run = c.create_run("0")
    with pytest.raises(InvalidParameterError):
        c.log_batch(run.info.run_id, params=[kf.Param("q", "1")], tags=[kf.RunTag("bad!", "x")])
    with pytest.raises(InvalidParameterError, match="Param objects"):
        c.log_batch(run.info.run_id, params=[("a", "1")])
    c.log_param(run.info.run_id, "q", "2")  # the refused batch left no trace
    assert c.get_run(run.info.run_id).data.params == {"q": "2"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"step": 2**70}, "out of range"),
        ({"step": 1e300}, "out of range"),
        ({"step": 1.5}, "whole number"),
        ({"timestamp": 10**20}, "out of range"),
        ({"timestamp": "abc"}, "whole number"),
    ],
)
def test_bad_step_or_timestamp_is_refused_at_the_call(tracking_uri, kwargs, words):
    with kf.start_run() as run:
        kf.log_metric("ok", 1.0)
        with pytest.raises(InvalidParameterError, match=words):
            kf.log_metric("bad", 1.0, **kwargs)
        with pytest.raises(InvalidParameterError, match=words):
            kf.Client().log_batch(run.info.run_id, metrics=[kf.Metric("bad", 1.0, kwargs.get(
                "timestamp", 0), kwargs.get("step", 0))])
    # logging goes on: nothing is jammed and earlier data is there
    assert kf.get_run(run.info.run_id).data.metrics == {"ok": 1.0}


def test_bad_status_keeps_the_run_active(tracking_uri):
    run = kf.start_run()
    with pytest.raises(InvalidParameterError, match="status"):
        kf.end_run("BOGUS")
    assert kf.active_run().info.run_id == run.info.run_id
    kf.end_run()


def test_resuming_a_deleted_run_changes_nothing(tracking_uri):
    with kf.start_run() as run:
        pass
    kf.delete_run(run.info.run_id)
    with pytest.raises(InvalidStateError):
        kf.start_run(run_id=run.info.run_id)
    info = kf.get_run(run.info.run_id).info
    assert info.status == "FINISHED" and info.end_time is not None
    assert kf.active_run() is None


@pytest.mark.parametrize(
    "call",
    [
        lambda c, rid: c.create_run("0", start_time="x"),
        lambda c, rid: c.set_terminated(rid, end_time="x"),
        lambda c, rid: c.update_run(rid, name=5),
        lambda c, rid: c.get_experiment_by_name(["a"]),
        lambda c, rid: c.get_metric_history(rid, ["a"]),
        lambda c, rid: c.search_experiments(max_results="5"),
        lambda c, rid: c.log_text(rid, 123, "a.txt"),
        lambda c, rid: c.log_table(rid, {"a": 1}, "t.json"),
        lambda c, rid: c.log_batch(rid, tags=[("k", "v")]),
        lambda c, rid: kf.log_metric(["a"], 1.0),
        lambda c, rid: kf.log_params([("a", 1)]),
        lambda c, rid: kf.set_tags("ab"),
        lambda c, rid: kf.log_metrics([1]),
    ],
)
def test_wrong_types_get_clear_errors(tracking_uri, call):
    c = kf.Client()
    with kf.start_run() as run:
        with pytest.raises(InvalidParameterError):
            call(c, run.info.run_id)
    assert kf.get_run(run.info.run_id).info.status == "FINISHED"


def test_log_dict_yaml_takes_numpy_values(tracking_uri):
    import numpy as np
    with kf.start_run() as run:
        kf.log_dict({"a": np.int64(3), "b": np.arange(2)}, "d.yaml")
    path = kf.Client().download_artifacts(run.info.run_id, "d.yaml")
    assert open(path).read() == "a: 3\nb:\n- 0\n- 1\n"


def test_last_active_run(tracking_uri):
    with kf.start_run() as run:
        assert kf.last_active_run().info.run_id == run.info.run_id
    assert kf.last_active_run().info.run_id == run.info.run_id
    with pytest.raises(InvalidParameterError, match="dict"):
        kf.start_run(tags=["not", "a", "dict"])


def test_runs_started_back_to_back_list_newest_first(tracking_uri):
    """Runs started within one millisecond still get distinct, increasing start times."""
    kf.set_experiment("burst")
    names = [f"b{i}" for i in range(20)]
    for name in names:
        with kf.start_run(run_name=name):
            pass
    runs = kf.search_runs(experiment_names=["burst"], output_format="list")
    assert [r.info.run_name for r in runs] == names[::-1]
    starts = [r.info.start_time for r in runs]
    assert starts == sorted(set(starts), reverse=True)
