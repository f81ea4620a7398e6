"""MLflow's scoring protocol, the model resolution and the batching, without Ray."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from serving_helpers import make_registry

import kernelflow
from kernelflow_serving import protocol
from kernelflow_serving.batch import predict_many
from kernelflow_serving.model import ModelSlot, normalize_uri, resolve


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return make_registry(tmp_path_factory.mktemp("protocol"))


def parse(payload, content_type="application/json"):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return protocol.parse_request(body.encode() if isinstance(body, str) else body, content_type)


def test_the_four_json_formats_and_csv():
    split = parse({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]},
                   "params": {"k": 1}})
    assert split.data.to_dict("records") == [{"a": 1, "b": 2}] and split.params == {"k": 1}
    records = parse({"dataframe_records": [{"a": 1, "b": 2}]})
    assert records.data.equals(split.data) and records.rows == 1
    assert parse({"instances": [{"a": 1, "b": 2}]}).data.equals(split.data)
    assert parse({"inputs": [[1, 2]]}).data == [[1, 2]]
    csv = parse("a,b\n1,2\n", "text/csv; charset=utf-8")
    assert csv.data.equals(split.data) and csv.params is None


@pytest.mark.parametrize("payload, content_type, status, fragment", [
    ("{", "application/json", 400, "Invalid input. Ensure that input is a valid JSON"),
    ("nope", "application/json", 400, "\nInput: \nb'nope'\n"),
    ("[1]", "application/json", 400, "Received a list"),
    ("3", "application/json", 400, "unexpected input type"),
    ('{"a": 1}', "application/json", 400, "Received dictionary with input fields: []"),
    ('{"dataframe_split": {"rows": []}}', "application/json", 400, "must have 'data' field"),
    ('{"dataframe_records": {"a": 1}}', "application/json", 400, "Got dictionary"),
    ("x", "application/xml", 415, "Got 'application/xml'"),
    ("x", "application/json; charset=utf-16", 415, "only supports UTF-8"),
    ("x", "application/json; format=pandas-split", 415, "Unrecognized content type parameters"),
])
def test_bad_requests_get_mlflow_status_codes_and_messages(payload, content_type, status,
                                                           fragment):
    with pytest.raises(protocol.ScoringError) as info:
        parse(payload, content_type)
    err = info.value
    assert err.status == status and fragment in err.message
    body, media = err.body()
    if status == 415:
        assert media == "text/plain" and body.decode() == err.message
    else:
        assert json.loads(body) == {"error_code": "BAD_REQUEST", "message": err.message,
                                    "sqlstate": "KAM00", "error_class": "INVALID_PARAMETER_VALUE"}


def test_predictions_body_handles_arrays_frames_and_nan():
    import numpy as np

    assert json.loads(protocol.predictions_body(np.array([1, 2]))) == {"predictions": [1, 2]}
    frame = pd.DataFrame({"p": [0.5]})
    assert json.loads(protocol.predictions_body(frame)) == {"predictions": [{"p": 0.5}]}
    assert b"NaN" in protocol.predictions_body(np.array([np.nan]))


def test_resolve_names_what_exists_when_the_alias_or_model_is_unknown(registry):
    client = kernelflow.Client(registry)
    with pytest.raises(kernelflow.ResourceNotFoundError, match=r"aliases: @champion -> 1"):
        resolve("models:/clf@nope", client)
    with pytest.raises(kernelflow.ResourceNotFoundError, match=r"has versions 1, 2"):
        resolve("models:/clf/9", client)
    with pytest.raises(kernelflow.ResourceNotFoundError, match="boom, broken, clf, scaler"):
        resolve("models:/digits@champion", client)
    assert resolve("clf@champion", client).load_uri == "models:/clf/1"
    assert normalize_uri("clf/2") == "models:/clf/2"


def test_the_slot_swaps_in_a_moved_alias_and_keeps_the_old_one_on_failure(registry):
    client = kernelflow.Client(registry)
    client.set_registered_model_alias("clf", "champion", 1)
    kernelflow.set_tracking_uri(registry)
    slot = ModelSlot("models:/clf@champion", client)
    assert slot.refresh() is False
    client.set_registered_model_alias("clf", "champion", 2)
    assert slot.refresh() is True and slot.resolved.version == "2"
    client.set_registered_model_alias("broken", "champion", 1)
    broken = ModelSlot("models:/clf@champion", client)
    broken.uri = "models:/broken@champion"  # now points at a model that cannot load
    assert broken.refresh() is False and "weights are corrupt" in broken.last_error
    assert broken.resolved.version == "2"
    client.set_registered_model_alias("clf", "champion", 1)
    fixed = ModelSlot("models:/clf/1", client)
    assert fixed.refresh() is False  # a pinned version never moves


def test_batched_frames_are_predicted_once_and_split_back(registry):
    client = kernelflow.Client(registry)
    kernelflow.set_tracking_uri(registry)
    slots = {"clf": ModelSlot("models:/clf/1", client), "boom": ModelSlot("boom/1", client)}
    calls = []
    model = slots["clf"].model
    original = model.predict

    def counting(data, params=None):
        calls.append(len(data))
        return original(data, params=params)

    model.predict = counting
    rows = [[0.1, 0.9], [0.9, 0.1], [0.2, 0.3]]
    items = [("clf", parse({"dataframe_split": {"columns": ["a", "b"], "data": [r]}}))
             for r in rows]
    items.append(("boom", parse({"dataframe_records": [{"x": -1.0}]})))
    items.append(("clf", parse({"dataframe_records": [{"a": "high", "b": 0.5}]})))  # not a float
    results = predict_many(slots, items)
    want = original(pd.DataFrame(rows, columns=["a", "b"])).tolist()
    assert [json.loads(r[0])["predictions"] for r in results[:3]] == [[w] for w in want]
    assert calls == [4, 1, 1, 1, 1]  # the four clf frames went together, failed, then one by one
    assert "boom: x must not be negative" in results[3][0].message
    assert "'a'" in results[4][0].message  # the bad one got its own error
    assert all(r[1].name == n for r, n in zip(results, ["clf"] * 3 + ["boom", "clf"],
                                               strict=True))


def test_text_columns_are_cast_to_the_signature_as_mlflow_does(registry):
    kernelflow.set_tracking_uri(registry)
    signature = kernelflow.load_model("models:/clf/1").signature
    parsed = parse({"dataframe_records": [{"a": "0.5", "b": 0.25}]})
    protocol.cast_to_signature(parsed, signature)
    assert parsed.data["a"].tolist() == [0.5]
    bad = parse({"dataframe_records": [{"a": "high", "b": 0.25}]})
    with pytest.raises(protocol.ScoringError) as info:
        protocol.cast_to_signature(bad, signature)
    assert info.value.message == (
        "Invalid input. Data is not compatible with model signature. Failed to convert column a "
        "to type 'float64'. Error: 'ValueError(\"could not convert string to float: 'high'\")'")
    err = protocol.prediction_error(kernelflow.InvalidParameterError("missing 'b'"), "data")
    assert (err.status, err.error_code, err.error_class) == (
        400, "INVALID_PARAMETER_VALUE", "SCHEMA_ENFORCEMENT_FAILED")
    assert json.loads(err.body()[0])["sqlstate"] == "KAM01"
