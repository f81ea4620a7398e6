"""``save_model``, ``log_model`` and ``load_model``: the model format's verbs."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import yaml

from ..errors import InvalidParameterError, ResourceExistsError
from .example import save_input_example
from .flavor import Flavor, detect_flavor, get_flavor
from .generic import PyFuncModel
from .loading import flavor_for, native_flavor_conf
from .metadata import PYFUNC, ModelInfo, ModelMetadata
from .requirements import REQUIREMENTS_FILE, write_requirements
from .signature import ModelSignature, as_frame_or_array, infer_signature
from .uri import resolve_local_path

logger = logging.getLogger(__name__)

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


def save_model(
    model: Any,
    path: str,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | bool | None = None,
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Save a model to a new local directory.

    Args:
        model: A scikit-learn estimator, ``torch.nn.Module``, Keras model,
            ``PythonModel`` or plain function.
        path: The directory to create; it must not exist (or be empty).
        flavor: Force a flavor by name instead of detecting it.
        input_example: A few rows of input; stored, and used to infer the signature.
        signature: A ModelSignature; inferred from ``input_example`` when None;
            ``False`` saves none.
        pip_requirements: Replace the inferred requirements (list or file path).
        extra_pip_requirements: Add to the inferred requirements.
        metadata: Free-form dict stored in the metadata file.
        run_id: The run that created the model (recorded in the metadata).
        artifact_path: The model's name inside that run.
        **options: Flavor options, e.g. ``artifacts=`` and ``model_config=``
            (Python models), ``serialization=`` (PyTorch), ``pyfunc_predict_fn=``
            (scikit-learn).

    Returns:
        A ModelInfo whose ``model_uri`` is the directory.
    """
    path = _empty_target(path)
    signature = _check_signature(signature)
    _check_metadata(metadata)
    chosen = get_flavor(flavor) if flavor else detect_flavor(model)
    with _removed_on_error(path):
        meta = _write_model(chosen, model, path, input_example, signature, options)
        meta.run_id, meta.artifact_path, meta.metadata = run_id, artifact_path, metadata
        meta.save(path)
        write_requirements(path, chosen.requirements(model), pip_requirements, extra_pip_requirements)
        _write_python_env(path)
    return ModelInfo.from_metadata(meta, path, path)


def _empty_target(path: Any) -> str:
    path = _check_path(path, "path")
    if os.path.exists(path) and os.listdir(path):
        raise ResourceExistsError(
            f"Cannot save a model to {path}: the directory exists and is not empty. "
            "Choose a new path or delete the old one."
        )
    return path


@contextlib.contextmanager
def _removed_on_error(path: str) -> Iterator[None]:
    """Create ``path``; remove it again if writing the model fails (no half-saved models)."""
    os.makedirs(path, exist_ok=True)
    try:
        yield
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _check_metadata(metadata: Any) -> None:
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterError(
            f"metadata must be a dict (stored in the MLmodel file), not {type(metadata).__name__}."
        )


def _check_path(path: Any, what: str) -> str:
    if isinstance(path, os.PathLike) or (isinstance(path, str) and path):
        return os.path.abspath(os.fspath(path))
    raise InvalidParameterError(
        f"{what} must be a directory path (a str or pathlib.Path), not {path!r}."
    )


def _check_signature(signature: Any) -> ModelSignature | bool | None:
    if signature is None or signature is False or isinstance(signature, ModelSignature):
        return signature
    raise InvalidParameterError(
        f"signature must be a ModelSignature, None (infer it from input_example) or False "
        f"(save none), not {type(signature).__name__} {signature!r:.60}. Build one with "
        "kernelflow.models.infer_signature(input, output)."
    )


def _write_model(
    flavor: Flavor, model: Any, path: str, example: Any, signature: Any, options: dict
) -> ModelMetadata:
    conf = flavor.save(model, path, input_example=example, **options)
    meta = ModelMetadata()
    pyfunc = {
        "loader_module": flavor.loader_module(),
        "python_version": platform.python_version(),
        "env": {"virtualenv": "python_env.yaml"},
    }
    if flavor.name == PYFUNC:
        meta.add_flavor(PYFUNC, **pyfunc, **conf)
    else:
        meta.add_flavor(PYFUNC, **pyfunc)
        meta.add_flavor(flavor.name, **conf)
    if example is not None:
        meta.saved_input_example_info = save_input_example(example, path)
    if signature is None and example is not None:
        signature = _infer(flavor, model, example, conf)
    meta.signature = signature or None
    return meta


def _infer(flavor: Flavor, model: Any, example: Any, conf: dict) -> ModelSignature:
    data = as_frame_or_array(example)
    try:
        output = flavor.predict(model, data, None, conf)
    except Exception as exc:  # the input part is still worth keeping
        logger.warning("Could not run the model on input_example to infer outputs: %s", exc)
        output = None
    try:
        return infer_signature(data, output)
    except Exception as exc:
        logger.warning("Could not infer the output schema: %s", exc)
        return infer_signature(data)


def _write_python_env(path: str) -> None:
    env = {
        "python": platform.python_version(),
        "build_dependencies": ["pip"],
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    with open(os.path.join(path, "python_env.yaml"), "w") as fh:
        yaml.safe_dump(env, fh, sort_keys=False)


def log_model(
    model: Any,
    name: str | None = None,
    *,
    input_example: Any = None,
    signature: ModelSignature | bool | None = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | str | None = None,
    artifact_path: str | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Save a model into a run's artifacts; optionally register it.

    Uses the active run, or ``run_id``; with neither, a run is started for the
    model and ended afterwards.

    Args:
        model: Any object :func:`save_model` accepts.
        name: The model's folder in the run's artifacts (default ``model``);
            ``artifact_path`` is MLflow 2's name for it.
        input_example: A few rows of input, stored and used for the signature.
        signature: A ModelSignature, None to infer, False for none.
        registered_model_name: Also register the model under this name.
        pip_requirements: Replace the inferred requirements.
        run_id: Log into this run instead of the active one.
        **kwargs: Passed on to :func:`save_model`.

    Returns:
        A ModelInfo; ``model_uri`` is ``runs:/<run_id>/<name>`` and
        ``registered_model_version`` is set when registered.
    """
    name = _check_name(name or artifact_path or "model")
    with _run_for(run_id, name) as target:
        info = _log_to_run(model, name, target, input_example, signature, pip_requirements, kwargs)
        if registered_model_name:
            from ..registry import register_model

            version = register_model(info.model_uri, registered_model_name)
            info.registered_model_version = int(version.version)
    return info


@contextlib.contextmanager
def _run_for(run_id: str | None, name: str) -> Iterator[str]:
    """Yield the run to log into: ``run_id``, the active run, or a new one ended afterwards."""
    from .. import fluent

    active = fluent.active_run()
    if run_id is not None or active is not None:
        yield run_id or active.info.run_id  # type: ignore[union-attr]
        return
    with fluent.start_run() as run:
        logger.info("Started run %s to log model %r", run.info.run_id, name)
        yield run.info.run_id


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameterError(
            f"Invalid model name {name!r}: use a relative folder name such as 'model'."
        )
    clean = name.strip("/")
    if not clean or ".." in clean.split("/") or os.path.isabs(name):
        raise InvalidParameterError(
            f"Invalid model name {name!r}: use a relative folder name such as 'model'."
        )
    return clean


def _log_to_run(
    model: Any, name: str, run_id: str, example: Any, signature: Any, reqs: Any, kwargs: dict
) -> ModelInfo:
    from ..client import default_client

    client = default_client()
    with tempfile.TemporaryDirectory(prefix="kernelflow-model-") as tmp:
        local = os.path.join(tmp, os.path.basename(name))
        info = save_model(
            model, local, input_example=example, signature=signature,
            pip_requirements=reqs, run_id=run_id, artifact_path=name, **kwargs,
        )
        client.log_artifacts(run_id, local, artifact_path=name)
    _append_history(client, run_id, info)
    info.model_uri = f"runs:/{run_id}/{name}"
    info.local_path = client.download_artifacts(run_id, name)
    return info


def _append_history(client: Any, run_id: str, info: ModelInfo) -> None:
    tags = client.get_run(run_id).data.tags
    try:
        history = json.loads(tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
    except ValueError:
        history = []
    history.append(
        {
            "run_id": run_id,
            "artifact_path": info.artifact_path,
            "utc_time_created": info.utc_time_created,
            "model_uuid": info.model_id,
            "flavors": {k: {} for k in info.flavors},
        }
    )
    client.set_tag(run_id, LOG_MODEL_HISTORY_TAG, json.dumps(history), synchronous=True)


def load_model(model_uri: str, dst_path: str | None = None) -> PyFuncModel:
    """Load a model as a generic PyFuncModel with ``predict`` and ``unwrap``.

    Args:
        model_uri: ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``,
            ``models:/<name>@<alias>``, ``models:/<name>/<stage>``,
            ``models:/<name>/latest`` or a local path. Directories made by
            MLflow load too.
        dst_path: Copy the model directory here first.

    Returns:
        The loaded model.
    """
    model_dir = local_model_dir(model_uri, dst_path)
    meta = ModelMetadata.load(model_dir)
    flavor, conf = flavor_for(meta, model_dir)
    return PyFuncModel(_load(flavor, model_dir, conf), flavor, conf, meta, model_dir)


def _load(flavor: Flavor, model_dir: str, conf: dict) -> Any:
    try:
        return flavor.load(model_dir, conf)
    except ModuleNotFoundError as exc:  # torch / keras / user code absent here
        from .flavors._pickle import missing_module

        raise missing_module(exc) from exc


def load_native(model_uri: str, flavor_name: str, dst_path: str | None = None) -> Any:
    """Load the native object of one flavor (``kernelflow.sklearn.load_model`` etc.)."""
    model_dir = local_model_dir(model_uri, dst_path)
    meta = ModelMetadata.load(model_dir)
    conf = native_flavor_conf(meta, flavor_name, model_dir)
    return _load(get_flavor(flavor_name), model_dir, conf)


def local_model_dir(model_uri: str, dst_path: str | None = None) -> str:
    """Resolve a model URI to a local directory (copied to ``dst_path`` if given)."""
    if isinstance(model_uri, os.PathLike):
        model_uri = os.fspath(model_uri)
    path = resolve_local_path(model_uri)
    if dst_path is not None:
        dest = os.path.join(_check_path(dst_path, "dst_path"), os.path.basename(path.rstrip("/")))
        shutil.copytree(path, dest, dirs_exist_ok=True)
        return dest
    return path


def get_model_info(model_uri: str) -> ModelInfo:
    """Return the ModelInfo of a stored model without loading it."""
    model_dir = local_model_dir(model_uri)
    return ModelInfo.from_metadata(ModelMetadata.load(model_dir), model_uri, model_dir)
