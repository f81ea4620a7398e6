"""Signatures: inference, MLflow's JSON form, and checking input against them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kernelflow.errors import InvalidParameterError
from kernelflow.models.signature import (
    ColSpec,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_schema,
    infer_signature,
)


def test_infer_column_types_from_dataframe():
    df = pd.DataFrame(
        {
            "i32": np.array([1, 2], dtype=np.int32),
            "i64": np.array([1, 2], dtype=np.int64),
            "f32": np.array([1.0, 2.0], dtype=np.float32),
            "f64": [1.5, 2.5],
            "b": [True, False],
            "s": ["a", "b"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    types = {c.name: c.type for c in infer_schema(df).inputs}
    assert types == {
        "i32": "integer", "i64": "long", "f32": "float", "f64": "double",
        "b": "boolean", "s": "string", "t": "datetime",
    }


def test_infer_tensor_from_array_frees_batch_dimension():
    schema = infer_schema(np.zeros((3, 4, 5), dtype=np.float32))
    assert schema.inputs == [TensorSpec("float32", (-1, 4, 5))]
    assert schema.is_tensor_spec


def test_signature_json_is_mlflows_layout_and_round_trips():
    sig = infer_signature(pd.DataFrame({"x": [1.0]}), np.array([0]), params={"k": 3})
    stored = sig.to_dict()
    assert json.loads(stored["inputs"]) == [{"type": "double", "name": "x", "required": True}]
    assert json.loads(stored["outputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    again = ModelSignature.from_dict(stored)
    assert again.inputs == sig.inputs and again.outputs == sig.outputs
    assert again.params == [{"name": "k", "type": "long", "default": 3, "shape": None}]


SCHEMA = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c")])


def test_enforce_reorders_and_casts_columns():
    out = SCHEMA.enforce(pd.DataFrame({"c": ["x"], "b": [2], "a": [1]}))
    assert list(out.columns) == ["a", "b", "c"]
    assert out["a"].dtype == np.float64 and out["b"].dtype == np.int64


@pytest.mark.parametrize(
    "data",
    [
        {"a": 1.0, "b": 2, "c": "x"},
        {"a": [1.0, 2.0], "b": [2, 3], "c": ["x", "y"]},
        [{"a": 1.0, "b": 2, "c": "x"}],
    ],
    ids=["dict-of-scalars", "dict-of-lists", "list-of-dicts"],
)
def test_enforce_accepts_dicts_and_lists(data):
    out = SCHEMA.enforce(data)
    assert list(out.columns) == ["a", "b", "c"]
    assert out["c"].iloc[0] == "x"


def test_enforce_names_array_columns_from_the_signature():
    schema = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
    out = schema.enforce(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert list(out.columns) == ["a", "b"] and out.shape == (2, 2)
    assert schema.enforce([1.0, 2.0]).shape == (1, 2)  # one row as a flat list


def test_missing_column_is_named():
    with pytest.raises(InvalidParameterError, match="missing column 'b'"):
        SCHEMA.enforce({"a": 1.0, "c": "x"})


def test_extra_column_is_named():
    with pytest.raises(InvalidParameterError, match="unexpected column 'zzz'"):
        SCHEMA.enforce({"a": 1.0, "b": 1, "c": "x", "zzz": 0})


def test_wrong_type_is_named():
    with pytest.raises(InvalidParameterError, match="column 'a' has type string .* expects double"):
        SCHEMA.enforce({"a": "oops", "b": 1, "c": "x"})
    with pytest.raises(InvalidParameterError, match="column 'b' .* expects long"):
        SCHEMA.enforce({"a": 1.0, "b": 1.5, "c": "x"})
    with pytest.raises(InvalidParameterError, match="column 'c' .* expects string"):
        SCHEMA.enforce({"a": 1.0, "b": 1, "c": 3})


def test_integral_floats_pass_as_integers():
    out = SCHEMA.enforce({"a": 1, "b": 3.0, "c": "x"})
    assert out["b"].iloc[0] == 3 and out["b"].dtype == np.int64


def test_array_with_wrong_column_count_says_so():
    with pytest.raises(InvalidParameterError, match="has 2 columns .* expects 3"):
        SCHEMA.enforce(np.zeros((1, 2)))


def test_tensor_shape_and_dtype_are_checked():
    schema = Schema([TensorSpec("float32", (-1, 4))])
    assert schema.enforce([[1, 2, 3, 4]]).dtype == np.float32
    with pytest.raises(InvalidParameterError, match=r"shape \[2, 3\] .* expects \[-1, 4\]"):
        schema.enforce(np.zeros((2, 3)))
    with pytest.raises(InvalidParameterError, match="dtype"):
        schema.enforce(np.array([["a", "b", "c", "d"]]))


@pytest.mark.parametrize("given", [np.float64, np.int64, np.int32, np.float16])
def test_tensor_arrays_of_another_dtype_are_refused_as_mlflow(given):
    schema = Schema([TensorSpec("float32", (-1, 4))])
    with pytest.raises(
        InvalidParameterError,
        match=rf"dtype {np.dtype(given).name} and shape \[2, 4\].*expects dtype float32 "
        r"and shape \[-1, 4\].*astype\('float32'\)",
    ):
        schema.enforce(np.zeros((2, 4), dtype=given))


def test_tensor_dataframes_of_another_dtype_are_refused():
    schema = Schema([TensorSpec("float32", (-1, 2))])
    with pytest.raises(InvalidParameterError, match="dtype float64"):
        schema.enforce(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    assert schema.enforce(pd.DataFrame({"a": [1.0], "b": [2.0]}, dtype=np.float32)).dtype == np.float32


def test_tensor_lists_have_no_dtype_and_are_converted():
    # Lists (and JSON) carry no dtype: their values are converted when they fit.
    assert Schema([TensorSpec("float32", (-1, 2))]).enforce([[1, 2.5]]).dtype == np.float32
    ints = Schema([TensorSpec("int32", (-1,))])
    assert ints.enforce([1, 2.0]).dtype == np.int32
    with pytest.raises(InvalidParameterError, match="dtype float64.*expects dtype int32"):
        ints.enforce([1.5])
    with pytest.raises(InvalidParameterError, match="expects dtype int32"):
        ints.enforce([2**40])


def test_tensor_matching_dtype_passes_unchanged():
    arr = np.zeros((3, 4), dtype=np.float32)
    assert Schema([TensorSpec("float32", (-1, 4))]).enforce(arr) is arr
    words = np.array(["a", "bcd"])
    assert Schema([TensorSpec("<U1", (-1,))]).enforce(words) is words  # any string length
