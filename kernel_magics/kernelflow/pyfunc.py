"""Generic models, MLflow-style: ``kernelflow.pyfunc.load_model`` and ``PythonModel``."""

from __future__ import annotations

from typing import Any

from .models import api as _api
from .models.generic import PyFuncModel
from .models.metadata import ModelInfo
from .models.python_model import PythonModel, PythonModelContext

FLAVOR_NAME = "python_function"

__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext", "load_model", "log_model", "save_model"]


def save_model(
    path: str,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Save a PythonModel or function to ``path``.

    Args:
        path: The directory to create.
        python_model: A PythonModel instance or a function of the input.
        artifacts: Name -> local path or model URI of files the model needs;
            copied into the model, found at ``context.artifacts[name]``.
        **kwargs: As :func:`kernelflow.save_model`, plus ``model_config``.
    """
    return _api.save_model(python_model, path, flavor=FLAVOR_NAME, artifacts=artifacts, **kwargs)


def log_model(
    name: str | None = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PythonModel or function into the active run (MLflow's argument order)."""
    if python_model is None:
        from .errors import InvalidParameterError

        raise InvalidParameterError("pyfunc.log_model needs python_model= (a PythonModel or function).")
    return _api.log_model(
        python_model, name, flavor=FLAVOR_NAME, artifacts=artifacts, **kwargs
    )


def load_model(model_uri: str, dst_path: str | None = None) -> PyFuncModel:
    """Load any model (every flavor, and MLflow-made ones) as a PyFuncModel."""
    return _api.load_model(model_uri, dst_path)


def _load_pyfunc(path: str) -> Any:
    """Entry point MLflow's ``pyfunc.load_model`` calls for kernelflow-made models."""
    return _api.load_model(path)
