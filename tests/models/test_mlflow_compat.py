"""MLflow-made model directories load (and register) in kernelflow."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import yaml

pytest.importorskip("sklearn")

import kernelflow  # noqa: E402
from kernelflow.errors import InvalidParameterError  # noqa: E402

MLFLOW_SKLEARN_MLMODEL = {
    "artifact_path": "model",
    "flavors": {
        "python_function": {
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.sklearn",
            "model_path": "model.pkl",
            "predict_fn": "predict",
            "python_version": "3.11.7",
        },
        "sklearn": {
            "code": None,
            "pickled_model": "model.pkl",
            "serialization_format": "cloudpickle",
            "sklearn_version": "1.5.0",
        },
    },
    "mlflow_version": "2.17.0",
    "model_size_bytes": 1000,
    "model_uuid": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "run_id": "5f2b7e1c9d8a4b3c",
    "signature": {
        "inputs": '[{"type": "double", "name": "a", "required": true}, '
        '{"type": "double", "name": "b", "required": true}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": None,
    },
    "utc_time_created": "2024-10-01 10:00:00.000000",
}


@pytest.fixture
def mlflow_style_dir(tmp_path):
    """A directory laid out exactly as mlflow.sklearn.save_model writes it."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    path = tmp_path / "mlflow_model"
    path.mkdir()
    (path / "MLmodel").write_text(yaml.safe_dump(MLFLOW_SKLEARN_MLMODEL))
    with open(path / "model.pkl", "wb") as fh:
        pickle.dump(model, fh)
    return path, model, X


def test_mlflow_sklearn_layout_loads_without_mlflow(mlflow_style_dir):
    path, model, X = mlflow_style_dir
    loaded = kernelflow.load_model(str(path))
    assert loaded.flavor == "sklearn" and loaded.metadata.made_by_mlflow
    assert loaded.metadata.model_id == MLFLOW_SKLEARN_MLMODEL["model_uuid"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(InvalidParameterError, match="missing column 'b'"):
        loaded.predict({"a": [1.0]})


def test_mlflow_model_can_be_registered_and_loaded_by_alias(tracking_uri, client, mlflow_style_dir):
    path, model, X = mlflow_style_dir
    mv = kernelflow.register_model(str(path), "legacy")
    client.set_registered_model_alias("legacy", "champion", mv.version)
    out = kernelflow.load_model("models:/legacy@champion").predict(X)
    np.testing.assert_array_equal(out, model.predict(X))


def test_unknown_mlflow_flavor_says_to_install_mlflow(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "mlflow" else real(n, *a))
    doc = {"flavors": {"python_function": {"loader_module": "mlflow.transformers"}},
           "mlflow_version": "2.17.0"}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameterError, match="needs MLflow: pip install mlflow"):
        kernelflow.load_model(str(tmp_path))


@pytest.mark.mlflow
@pytest.mark.slow
def test_directory_made_by_mlflow_itself_loads(tmp_path, iris, iris_model):
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    from mlflow.models import infer_signature as mlflow_infer

    X, _ = iris
    sig = mlflow_infer(X, iris_model.predict(X))
    mlflow_sklearn.save_model(iris_model, str(tmp_path / "m"), signature=sig, input_example=X.head(2))
    loaded = kernelflow.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(X), iris_model.predict(X))
    with pytest.raises(InvalidParameterError, match="unexpected column 'extra'"):
        loaded.predict(X.assign(extra=1.0))


@pytest.mark.mlflow
def test_mlflow_python_model_loads_through_mlflow(tmp_path):
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    import pandas as pd

    class Add(mlflow_pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input["x"] + 1

    mlflow_pyfunc.save_model(str(tmp_path / "m"), python_model=Add())
    out = kernelflow.load_model(str(tmp_path / "m")).predict(pd.DataFrame({"x": [1, 2]}))
    assert list(out) == [2, 3]
