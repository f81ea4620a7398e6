"""The Keras 3 flavor (torch backend here)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import kernelflow  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    return model, x


def test_round_trip_predicts_identically(tmp_path, trained):
    model, x = trained
    info = kernelflow.save_model(model, str(tmp_path / "m"), input_example=x[:3])
    assert "keras" in info.flavors and (tmp_path / "m" / "model.keras").exists()
    loaded = kernelflow.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(x), model.predict(x, verbose=0), rtol=1e-5)
    assert loaded.signature.outputs.inputs[0].shape == (-1, 1)
    reqs = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    backend = keras.backend.backend()
    assert any(r.startswith("keras==") for r in reqs)
    assert any(r.startswith(f"{'torch' if backend == 'torch' else backend}==") for r in reqs)


def test_flavor_module_returns_keras_model(tmp_path, trained):
    model, x = trained
    kernelflow.keras.save_model(model, str(tmp_path / "m"))
    native = kernelflow.keras.load_model(str(tmp_path / "m"))
    assert isinstance(native, keras.Model)
    np.testing.assert_allclose(native.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_keras_model_is_not_mistaken_for_torch(trained):
    from kernelflow.models import detect_flavor

    assert detect_flavor(trained[0]).name == "keras"
