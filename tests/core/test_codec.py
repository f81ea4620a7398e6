"""The one MLflow JSON codec: every entity survives encode -> decode unchanged."""

from __future__ import annotations

import json
import math

import pytest

from kernelflow import codec
from kernelflow.entities import (
    Experiment,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
)
from kernelflow.store.datasets import Dataset, DatasetInput


def _wire(message: dict) -> dict:
    """What crosses HTTP: JSON text and back (so only JSON types survive)."""
    return json.loads(json.dumps(message))


def test_experiment_round_trip():
    exp = Experiment("7", "digits", "/tmp/a", "active", {"team": "vision"}, 1000, 2000)
    assert codec.experiment_from_json(_wire(codec.experiment_json(exp))) == exp


def test_experiment_location_goes_through_the_uri_map():
    exp = Experiment("7", "digits", "/srv/artifacts/7")
    message = codec.experiment_json(exp, lambda p: p.replace("/srv/artifacts", "mlflow-artifacts:"))
    assert message["artifact_location"] == "mlflow-artifacts:/7"


def test_run_info_round_trip_and_mlflow_fields():
    info = RunInfo("abc", "1", "sgd", "ann", "FINISHED", 10, 20, "/tmp/r", "active")
    message = codec.run_info_json(info)
    assert message["run_uuid"] == message["run_id"] == "abc"
    assert codec.run_info_from_json(_wire(message)) == info


def test_running_run_has_no_end_time_field():
    info = RunInfo("abc", "1", "sgd", "ann", "RUNNING", 10, None, "/tmp/r")
    assert "end_time" not in codec.run_info_json(info)


def test_run_round_trip_keeps_latest_steps_and_timestamps():
    latest = {"acc": Metric("acc", 0.5, 111, 3), "loss": Metric("loss", float("nan"), 112, 4),
              "big": Metric("big", float("inf"), 113, 5)}
    run = Run(RunInfo("abc", "1", "sgd", "ann", "RUNNING", 10, None, "/tmp/r"),
              RunData({k: m.value for k, m in latest.items()}, {"lr": "0.1"}, {"t": "x"}, latest))
    back = codec.run_from_json(_wire(codec.run_json(run)))
    assert back.info == run.info
    assert back.data.params == {"lr": "0.1"} and back.data.tags == {"t": "x"}
    assert back.data.latest_metrics["acc"] == latest["acc"]
    assert math.isnan(back.data.metrics["loss"]) and back.data.metrics["big"] == math.inf
    assert back.data.latest_metrics["loss"].step == 4


@pytest.mark.parametrize("value, text", [(float("nan"), "NaN"), (float("inf"), "Infinity"),
                                         (float("-inf"), "-Infinity"), (1.5, 1.5)])
def test_metric_values_as_mlflow_writes_them(value, text):
    encoded = codec.metric_json(value)
    assert encoded == text
    back = codec.metric_value(encoded)
    assert (math.isnan(back) and math.isnan(value)) or back == value


def test_model_version_round_trip():
    mv = ModelVersion("digits", "3", 5, 6, "desc", "/tmp/m", "run1", "READY", "Production",
                      {"k": "v"}, ["champion"])
    assert codec.model_version_from_json(_wire(codec.model_version_json(mv))) == mv


def test_registered_model_round_trip():
    mv = ModelVersion("digits", "3", 5, 6, None, "/tmp/m", "run1", "READY", "None", {}, [])
    rm = RegisteredModel("digits", 1, 2, "about", {"k": "v"}, {"champion": "3"}, [mv])
    assert codec.registered_model_from_json(_wire(codec.registered_model_json(rm))) == rm


def test_dataset_input_round_trip():
    item = DatasetInput(Dataset("iris", "d1g", "local", '{"uri": "x"}', '{"cols": []}', "{}"),
                        {"mlflow.data.context": "train"})
    assert codec.dataset_input_from_json(_wire(codec.dataset_input_json(item))) == item


def test_server_and_http_store_share_the_codec():
    """The REST layer's shapes and the HTTP store's decoders are the codec's functions."""
    from kernelflow.store import rest

    assert rest._run is codec.run_from_json and rest._experiment is codec.experiment_from_json
    assert rest._dataset_input is codec.dataset_input_from_json
    assert rest.metric_json is codec.metric_json
