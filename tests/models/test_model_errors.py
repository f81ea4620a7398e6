"""A user's mistake in the model API is a KernelflowError that says what to do, never a raw error."""

from __future__ import annotations

import numpy as np
import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError, KernelflowError


def add_one(df):
    return df + 1


@pytest.fixture
def saved(tmp_path):
    path = str(tmp_path / "f")
    kernelflow.save_model(add_one, path)
    return path


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"signature": "bogus"}, "signature must be a ModelSignature"),
        ({"signature": {"inputs": "[]"}}, "signature must be a ModelSignature"),
        ({"signature": True}, "signature must be a ModelSignature"),
        ({"pip_requirements": 3}, "pip_requirements must be"),
        ({"pip_requirements": "/no/such/requirements.txt"}, "cannot read"),
        ({"extra_pip_requirements": "numpy"}, "extra_pip_requirements must be a list"),
        ({"metadata": "notes"}, "metadata must be a dict"),
    ],
)
def test_save_model_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        kernelflow.save_model(add_one, str(tmp_path / "m"), **kwargs)
    assert not (tmp_path / "m").exists()  # nothing half-written is left behind


@pytest.mark.parametrize("path", [None, 3, ""])
def test_save_model_path_must_be_a_path(path):
    with pytest.raises(InvalidParameterError, match="path must be"):
        kernelflow.save_model(add_one, path)


@pytest.mark.parametrize("name", [3, ["model"], "../up", "/abs"])
def test_log_model_name_must_be_a_relative_folder(tracking_uri, name):
    with pytest.raises(InvalidParameterError, match="model name"):
        kernelflow.log_model(add_one, name)


def test_log_model_bad_signature(tracking_uri):
    with pytest.raises(InvalidParameterError, match="signature must be a ModelSignature"):
        kernelflow.log_model(add_one, "model", signature="bogus")


@pytest.mark.parametrize("uri", [None, 3, ["a"]])
def test_load_model_uri_must_be_a_string(uri):
    with pytest.raises(InvalidParameterError, match="model URI must be"):
        kernelflow.load_model(uri)


def test_load_model_accepts_a_pathlib_path(saved):
    import pathlib

    assert kernelflow.load_model(pathlib.Path(saved)).predict([[1.0]]).tolist() == [[2.0]]


def test_load_model_bad_dst_path(saved):
    with pytest.raises(InvalidParameterError, match="dst_path must be"):
        kernelflow.load_model(saved, dst_path=3)


@pytest.mark.parametrize(
    "text, message",
    [
        ("flavors: [unclosed\n  :", "not valid YAML"),
        ("- just\n- a list\n", "not a mapping"),
        ("flavors: [a, b]\n", "'flavors' must be a mapping"),
        ("flavors: {python_function: {}}\nsignature: {inputs: 'not json'}\n", "signature"),
        ("flavors: {python_function: {}}\nsignature: [1, 2]\n", "signature"),
    ],
)
def test_corrupt_metadata_file_is_named(tmp_path, text, message):
    (tmp_path / "MLmodel").write_text(text)
    with pytest.raises(InvalidParameterError, match=message) as err:
        kernelflow.load_model(str(tmp_path))
    assert "MLmodel" in str(err.value)


def test_missing_model_dir_is_not_found(tmp_path):
    with pytest.raises(KernelflowError, match="does not exist"):
        kernelflow.load_model(str(tmp_path / "nope"))


def test_predict_dict_of_arrays_without_signature_says_what_to_pass(tmp_path):
    kernelflow.save_model(add_one, str(tmp_path / "m"))
    model = kernelflow.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterError, match="Model input .*dict"):
        model.predict({"a": np.zeros((2, 4))})


def test_predict_ragged_list_is_a_clear_error(saved):
    with pytest.raises(InvalidParameterError, match="Model input .*list"):
        kernelflow.load_model(saved).predict([[1.0, 2.0], [1.0]])


def test_predict_params_must_be_a_dict(saved):
    with pytest.raises(InvalidParameterError, match="params must be a dict"):
        kernelflow.load_model(saved).predict([[1.0]], params="upper")


def test_pytorch_predict_dict_is_a_clear_error(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(4, 2)
    x = np.zeros((2, 4), dtype=np.float32)
    kernelflow.save_model(net, str(tmp_path / "m"), input_example=x)
    with pytest.raises(InvalidParameterError, match="takes one tensor .* pass a numpy array"):
        kernelflow.load_model(str(tmp_path / "m")).predict({"a": x})
