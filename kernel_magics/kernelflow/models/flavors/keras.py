"""The Keras 3 flavor: the native ``.keras`` file, on any Keras backend."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np
import pandas as pd

from ..flavor import Flavor, class_path

MODEL_FILE = "model.keras"


def import_keras() -> Any:
    """Import keras, choosing the torch backend when TensorFlow is absent.

    Keras 3 defaults to TensorFlow; on a machine with torch but no TensorFlow
    that default cannot import, so ``KERAS_BACKEND`` is set to ``torch``
    unless the user already chose a backend.
    """
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("tensorflow") is None:
        if importlib.util.find_spec("torch") is not None:
            os.environ["KERAS_BACKEND"] = "torch"
        elif importlib.util.find_spec("jax") is not None:
            os.environ["KERAS_BACKEND"] = "jax"
    import keras

    return keras


class KerasFlavor(Flavor):
    """Saves ``keras.Model`` objects as ``model.keras``."""

    name = "keras"
    packages = ("keras",)

    def accepts(self, model: Any) -> bool:
        """True for Keras 3 models (Sequential, functional or subclassed)."""
        return any(p.startswith("keras.src.models.model.Model") for p in class_path(model))

    def requirements(self, model: Any) -> tuple[str, ...]:
        """keras plus the backend it runs on (torch, tensorflow or jax)."""
        backend = import_keras().backend.backend()
        return (*self.packages, {"tensorflow": "tensorflow", "jax": "jax"}.get(backend, "torch"))

    def save(self, model: Any, path: str, input_example: Any = None, **options: Any) -> dict:
        """Write the ``.keras`` archive (architecture, weights, optimizer state)."""
        keras = import_keras()
        model.save(os.path.join(path, MODEL_FILE))
        return {
            "keras_version": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "model_file": MODEL_FILE,
            "save_format": "keras",
        }

    def load(self, path: str, conf: dict) -> Any:
        """Load the ``.keras`` archive (custom layers must be registered serializable)."""
        keras = import_keras()
        return keras.saving.load_model(os.path.join(path, conf.get("model_file", MODEL_FILE)))

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """Run ``model.predict`` quietly and return numpy output."""
        if isinstance(data, (pd.DataFrame, pd.Series)):
            data = data.to_numpy()
        elif isinstance(data, list):
            data = np.asarray(data)
        batch_size = (params or {}).get("batch_size")
        return model.predict(data, verbose=0, batch_size=batch_size)
