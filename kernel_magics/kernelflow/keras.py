"""Keras 3 models, MLflow-style: ``kernelflow.keras.log_model`` / ``load_model``."""

from __future__ import annotations

from typing import Any

from .models import api as _api
from .models.metadata import ModelInfo

FLAVOR_NAME = "keras"


def save_model(model: Any, path: str, **kwargs: Any) -> ModelInfo:
    """Save a Keras model (``.keras`` file) to ``path``."""
    return _api.save_model(model, path, flavor=FLAVOR_NAME, **kwargs)


def log_model(model: Any, name: str | None = None, **kwargs: Any) -> ModelInfo:
    """Log a Keras model into the active run (see :func:`kernelflow.log_model`)."""
    kwargs.setdefault("flavor", FLAVOR_NAME)
    return _api.log_model(model, name, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load the Keras model itself from any model URI."""
    return _api.load_native(model_uri, FLAVOR_NAME, dst_path)


def autolog(**kwargs: Any) -> None:
    """Turn on Keras autologging (see :func:`kernelflow.autolog`)."""
    from .autolog import keras as _autolog

    _autolog.enable(**kwargs)


def __getattr__(name: str) -> Any:
    if name == "KernelflowCallback":
        from .autolog import keras as _autolog

        return _autolog.KernelflowCallback
    raise AttributeError(f"module 'kernelflow.keras' has no attribute {name!r}")


def _load_pyfunc(path: str) -> Any:
    """Entry point MLflow's ``pyfunc.load_model`` calls for kernelflow-made models."""
    return _api.load_model(path)
