"""The Python-function flavor: a plain function or a ``PythonModel``, with artifacts."""

from __future__ import annotations

import os
import shutil
from typing import Any

from ...errors import InvalidParameterError, ResourceNotFoundError
from ..flavor import Flavor
from ..python_model import PythonModel, PythonModelContext, call_predict
from . import _pickle

MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"


class PythonFunctionFlavor(Flavor):
    """Pickles a function or a PythonModel; copies its artifacts into the model."""

    name = "python_function"
    packages = ("cloudpickle",)

    def accepts(self, model: Any) -> bool:
        """True for PythonModel instances and any other callable."""
        return isinstance(model, PythonModel) or callable(model)

    def loader_module(self) -> str:
        """Our python_function models load through ``kernelflow.pyfunc``."""
        return "kernelflow.pyfunc"

    def save(self, model: Any, path: str, input_example: Any = None, **options: Any) -> dict:
        """Pickle the model; ``artifacts`` maps names to files, dirs or model URIs."""
        if not (isinstance(model, PythonModel) or callable(model)):
            raise InvalidParameterError(
                f"python_model must be a PythonModel or a function, not {type(model).__qualname__}."
            )
        fmt = _pickle.dump(model, os.path.join(path, MODEL_FILE))
        artifacts = _copy_artifacts(options.get("artifacts") or {}, path)
        return {
            "python_model": MODEL_FILE,
            "serialization_format": fmt,
            "model_kind": "python_model" if isinstance(model, PythonModel) else "function",
            "artifacts": artifacts,
            "model_config": options.get("model_config") or {},
        }

    def load(self, path: str, conf: dict) -> Any:
        """Unpickle the model and call ``load_context`` with the stored artifacts."""
        model = _pickle.load(os.path.join(path, conf.get("python_model", MODEL_FILE)))
        if isinstance(model, PythonModel):
            context = context_for(path, conf)
            model.load_context(context)
            model._kernelflow_context = context  # type: ignore[attr-defined]  # for predict
        return model

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """Call ``model.predict`` (PythonModel) or the function itself."""
        if isinstance(model, PythonModel):
            return call_predict(model.predict, context_for_loaded(model), data, params)
        return call_predict(model, None, data, params)


def context_for(path: str, conf: dict) -> PythonModelContext:
    """Build the context of a model stored at ``path``."""
    artifacts = {
        name: os.path.join(path, entry["path"]) for name, entry in (conf.get("artifacts") or {}).items()
    }
    return PythonModelContext(artifacts=artifacts, model_config=conf.get("model_config") or {})


def context_for_loaded(model: Any) -> PythonModelContext:
    """The context remembered on a loaded model (empty for one never saved)."""
    return getattr(model, "_kernelflow_context", None) or PythonModelContext()


def _copy_artifacts(artifacts: dict[str, str], path: str) -> dict[str, dict[str, str]]:
    from ..uri import resolve_local_path

    out = {}
    for name, source in artifacts.items():
        try:
            local = resolve_local_path(str(source))
        except ResourceNotFoundError as exc:
            raise InvalidParameterError(
                f"Artifact {name!r} points at {source!r}, which does not exist ({exc.message})."
            ) from exc
        rel = os.path.join(ARTIFACTS_DIR, name)
        dest = os.path.join(path, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(local):
            shutil.copytree(local, dest)
        elif os.path.isfile(local):
            shutil.copy2(local, dest)
        else:
            raise InvalidParameterError(
                f"Artifact {name!r} points at {source!r}, which does not exist."
            )
        out[name] = {"path": rel, "uri": str(source)}
    return out
