"""The model format: save, log and load models of any flavor.

A model is a directory with an ``MLmodel`` metadata file (MLflow's layout),
the flavor's files, ``requirements.txt`` and, optionally, an input example.
"""

from __future__ import annotations

from .api import get_model_info, load_model, load_native, log_model, save_model
from .flavor import Flavor, detect_flavor, flavors, get_flavor, register_flavor
from .generic import PyFuncModel
from .metadata import ModelInfo, ModelMetadata
from .python_model import PythonModel, PythonModelContext
from .signature import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature
from .uri import parse_model_uri

__all__ = [
    "ColSpec",
    "Flavor",
    "ModelInfo",
    "ModelMetadata",
    "ModelSignature",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "Schema",
    "TensorSpec",
    "detect_flavor",
    "flavors",
    "get_flavor",
    "get_model_info",
    "infer_signature",
    "load_model",
    "load_native",
    "log_model",
    "parse_model_uri",
    "register_flavor",
    "save_model",
]
