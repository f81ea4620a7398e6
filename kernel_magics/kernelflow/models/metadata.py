"""The metadata file of a model directory (``MLmodel``, YAML) and ``ModelInfo``.

The file has MLflow's name and layout, so a kernelflow model directory and an
MLflow one are read by the same code::

    artifact_path: model
    flavors:
      python_function: {loader_module: kernelflow.sklearn, model_path: model.pkl, ...}
      sklearn: {pickled_model: model.pkl, sklearn_version: 1.5.0, ...}
    kernelflow_version: 0.1.0
    model_id: 3f0c...
    run_id: 8a1b...
    signature: {inputs: '[...]', outputs: '[...]', params: null}
    saved_input_example_info: {artifact_path: input_example.json, type: dataframe}
    utc_time_created: '2025-01-01 12:00:00.000000'
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import yaml

from ..errors import InvalidParameterError, ResourceNotFoundError
from .signature import ModelSignature

METADATA_FILE = "MLmodel"
PYFUNC = "python_function"


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("kernelflow")
    except Exception:
        return "0.0.0"


@dataclass
class ModelMetadata:
    """The contents of a model directory's ``MLmodel`` file."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    )
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    kernelflow_version: str | None = field(default_factory=_package_version)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def made_by_mlflow(self) -> bool:
        """True when the directory was written by MLflow, not kernelflow."""
        return self.kernelflow_version is None

    def add_flavor(self, name: str, **conf: Any) -> None:
        """Record a flavor and its loading options."""
        self.flavors[name] = conf

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML document as a dict."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "artifact_path": self.artifact_path,
                "flavors": self.flavors,
                "model_id": self.model_id,
                "model_uuid": self.model_id,
                "run_id": self.run_id,
                "utc_time_created": self.utc_time_created,
            }
        )
        if self.kernelflow_version:
            out["kernelflow_version"] = self.kernelflow_version
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata:
            out["metadata"] = self.metadata
        return {k: v for k, v in out.items() if v is not None}

    def save(self, model_dir: str) -> str:
        """Write ``MLmodel`` into ``model_dir`` and return its path."""
        path = os.path.join(model_dir, METADATA_FILE)
        with open(path, "w") as fh:
            yaml.safe_dump(self.to_dict(), fh, default_flow_style=False, sort_keys=True)
        return path

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ModelMetadata:
        """Build from a parsed YAML document (ours or MLflow's)."""
        doc = dict(doc)
        known = {
            "flavors": doc.pop("flavors", None) or {},
            "artifact_path": doc.pop("artifact_path", None),
            "run_id": doc.pop("run_id", None),
            "model_id": doc.pop("model_id", None) or doc.get("model_uuid") or uuid.uuid4().hex,
            "utc_time_created": str(doc.pop("utc_time_created", "")),
            "saved_input_example_info": doc.pop("saved_input_example_info", None),
            "metadata": doc.pop("metadata", None),
            "kernelflow_version": doc.pop("kernelflow_version", None),
        }
        doc.pop("model_uuid", None)
        signature = doc.pop("signature", None)
        known["signature"] = ModelSignature.from_dict(signature) if signature else None
        return cls(**known, extra=doc)

    @classmethod
    def load(cls, model_dir: str) -> ModelMetadata:
        """Read ``MLmodel`` from a model directory.

        Raises:
            ResourceNotFoundError: the directory holds no ``MLmodel`` file.
            InvalidParameterError: the file is not valid YAML or not a model's
                metadata (flavors not a mapping, an unreadable signature).
        """
        path = os.path.join(model_dir, METADATA_FILE)
        if not os.path.isfile(path):
            raise ResourceNotFoundError(
                f"No model found at {model_dir}: it has no {METADATA_FILE} file. "
                "Point at a directory made by kernelflow.save_model / log_model "
                "(or MLflow's save_model)."
            )
        try:
            with open(path) as fh:
                doc = yaml.safe_load(fh) or {}
        except yaml.YAMLError as exc:
            raise InvalidParameterError(f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise _corrupt(path, f"its content is a {type(doc).__name__}, not a mapping")
        if not isinstance(doc.get("flavors") or {}, dict):
            raise _corrupt(path, "'flavors' must be a mapping of flavor name to its settings")
        try:
            return cls.from_dict(doc)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _corrupt(path, f"its signature cannot be read ({type(exc).__name__}: {exc})") from exc


def _corrupt(path: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"{path} is not a valid model metadata file: {why}. Re-save the model with "
        "kernelflow.save_model, or fix the file by hand."
    )


@dataclass
class ModelInfo:
    """What ``log_model`` returns: where the model is and what it holds."""

    model_uri: str
    artifact_path: str | None
    run_id: str | None
    model_id: str
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None
    utc_time_created: str
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    registered_model_version: int | None = None
    local_path: str | None = None

    @property
    def name(self) -> str | None:
        """The name the model was logged under (MLflow 3's name for artifact_path)."""
        return self.artifact_path

    @property
    def model_uuid(self) -> str:
        """MLflow 2's name for ``model_id``."""
        return self.model_id

    @classmethod
    def from_metadata(cls, meta: ModelMetadata, model_uri: str, local_path: str) -> ModelInfo:
        """Build from a model's metadata and the URI it was stored at."""
        return cls(
            model_uri=model_uri,
            artifact_path=meta.artifact_path,
            run_id=meta.run_id,
            model_id=meta.model_id,
            flavors=meta.flavors,
            signature=meta.signature,
            utc_time_created=meta.utc_time_created,
            saved_input_example_info=meta.saved_input_example_info,
            metadata=meta.metadata,
            local_path=local_path,
        )
