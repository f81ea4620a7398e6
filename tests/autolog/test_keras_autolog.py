"""Keras 3 autolog: the callback logs params, per-epoch metrics and the model."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import kernelflow  # noqa: E402

rng = np.random.default_rng(0)
X = rng.random((48, 4)).astype("float32")
Y = (X.sum(axis=1) > 2).astype("float32")


def tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


def test_autolog_fit_logs_epochs_params_and_model(autolog, runs, client):
    autolog()
    model = tiny_model()
    model.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    (run,) = runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "3" and run.data.params["optimizer_name"] == "Adam"
    assert float(run.data.params["learning_rate"]) == pytest.approx(0.01)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert "accuracy" in run.data.metrics
    loaded = kernelflow.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(X[:4]), model.predict(X[:4], verbose=0), rtol=1e-5)


def test_explicit_callback_without_autolog(tracking_uri, runs):
    with kernelflow.start_run() as active:
        tiny_model().fit(X, Y, epochs=2, verbose=0,
                         callbacks=[kernelflow.keras.KernelflowCallback(log_models=False)])
        assert kernelflow.active_run() is not None  # the user's run stays open
    (run,) = runs()
    assert run.info.run_id == active.info.run_id and "loss" in run.data.metrics


class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("boom in epoch")


def test_failed_fit_marks_run_failed(autolog, runs, client):
    autolog()
    with pytest.raises(RuntimeError, match="boom in epoch"):
        tiny_model().fit(X, Y, epochs=3, verbose=0, callbacks=[Boom()])
    (run,) = runs()
    assert run.info.status == "FAILED"
    assert client.list_artifacts(run.info.run_id) == []  # no model from a failed fit


def test_disable_leaves_fit_unlogged(autolog, runs):
    autolog()
    autolog(disable=True)
    tiny_model().fit(X, Y, epochs=1, verbose=0)
    assert runs() == []
