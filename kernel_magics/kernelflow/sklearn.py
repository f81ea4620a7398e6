"""scikit-learn models, MLflow-style: ``kernelflow.sklearn.log_model`` / ``load_model``."""

from __future__ import annotations

from typing import Any

from .models import api as _api
from .models.metadata import ModelInfo

FLAVOR_NAME = "sklearn"


def save_model(sk_model: Any, path: str, **kwargs: Any) -> ModelInfo:
    """Save an estimator or pipeline to ``path`` (see :func:`kernelflow.save_model`)."""
    return _api.save_model(sk_model, path, flavor=FLAVOR_NAME, **kwargs)


def log_model(sk_model: Any, name: str | None = None, **kwargs: Any) -> ModelInfo:
    """Log an estimator into the active run (see :func:`kernelflow.log_model`)."""
    kwargs.setdefault("flavor", FLAVOR_NAME)
    return _api.log_model(sk_model, name, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load the fitted estimator itself from any model URI."""
    return _api.load_native(model_uri, FLAVOR_NAME, dst_path)


def autolog(**kwargs: Any) -> None:
    """Turn on scikit-learn autologging (see :func:`kernelflow.autolog`)."""
    from .autolog import sklearn as _autolog

    _autolog.enable(**kwargs)


def _load_pyfunc(path: str) -> Any:
    """Entry point MLflow's ``pyfunc.load_model`` calls for kernelflow-made models."""
    return _api.load_model(path)
