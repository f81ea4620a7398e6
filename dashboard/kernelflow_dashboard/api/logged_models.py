"""MLflow 3's logged-model endpoints (``/logged-models...``) and run outputs.

MLflow 3's ``log_model`` creates a logged model (PENDING), uploads its files to
the model's artifact location (``mlflow-artifacts:/<exp>/models/<model_id>/artifacts``),
records it as an output of its run and finalizes it (READY). Registering it sends
``models:/<model_id>`` as the version source; :func:`resolve_source` turns that
into the model's local folder so kernelflow's SDK can load the version directly.
"""

from __future__ import annotations

import json

from kernelflow import LoggedModel, LoggedModelMetric, codec
from kernelflow.artifacts import list_dir
from kernelflow.errors import InvalidParameterError

from . import shapes
from .artifacts import listed
from .request import Params
from .service import Api

# MLflow's LoggedModelStatus enum: proto names and numbers -> the store's names.
_STATUS_IN = {"LOGGED_MODEL_PENDING": "PENDING", "LOGGED_MODEL_READY": "READY",
              "LOGGED_MODEL_UPLOAD_FAILED": "FAILED", "1": "PENDING", "2": "READY", "3": "FAILED",
              "PENDING": "PENDING", "READY": "READY", "FAILED": "FAILED"}
_STATUS_OUT = {"PENDING": "LOGGED_MODEL_PENDING", "READY": "LOGGED_MODEL_READY",
               "FAILED": "LOGGED_MODEL_UPLOAD_FAILED"}
MODEL_VERSIONS_TAG = "mlflow.modelVersions"  # MLflow's tag listing a model's registrations
DEFAULT_MAX_RESULTS = 100


# -- shapes --------------------------------------------------------------------------
def _registrations(tags: dict[str, str]) -> list[dict[str, str]]:
    try:
        items = json.loads(tags.get(MODEL_VERSIONS_TAG) or "[]")
    except ValueError:
        return []
    out: list[dict[str, str]] = []
    for i in items if isinstance(items, list) else []:
        entry = {"name": str(i.get("name")), "version": str(i.get("version"))} \
            if isinstance(i, dict) else None
        # MLflow's fluent register_model appends to the tag the server already set.
        if entry and entry not in out:
            out.append(entry)
    return out


def _metric(model_id: str, m: LoggedModelMetric) -> dict:
    return codec.drop_none({
        "key": m.key, "value": shapes.metric_json(m.value), "timestamp": m.timestamp,
        "step": m.step, "run_id": m.run_id, "dataset_name": m.dataset_name,
        "dataset_digest": m.dataset_digest, "model_id": model_id,
    })


def logged_model(m: LoggedModel, api: Api) -> dict:
    """A ``LoggedModel`` message (``info`` and ``data``)."""
    info = codec.drop_none({
        "model_id": m.model_id, "experiment_id": m.experiment_id, "name": m.name,
        "creation_timestamp_ms": m.creation_timestamp,
        "last_updated_timestamp_ms": m.last_updated_timestamp,
        "artifact_uri": api.uris.to_remote(m.artifact_location),
        "status": _STATUS_OUT[m.status], "model_type": m.model_type,
        "source_run_id": m.source_run_id, "status_message": m.status_message,
        "tags": shapes.kv_list(m.tags), "registrations": _registrations(m.tags),
    })
    data = {"params": shapes.kv_list(m.params),
            "metrics": [_metric(m.model_id, x) for x in m.metrics]}
    return {"info": info, "data": data}


def _one(api: Api, model: LoggedModel) -> dict:
    return {"model": logged_model(model, api)}


def _status(value) -> str:
    status = _STATUS_IN.get(str(value).upper())
    if status is None:
        raise InvalidParameterError(
            f"Invalid logged model status {value!r}: use LOGGED_MODEL_READY, "
            "LOGGED_MODEL_PENDING or LOGGED_MODEL_UPLOAD_FAILED."
        )
    return status


# -- endpoints -------------------------------------------------------------------------
def create_logged_model(api: Api, p: Params) -> dict:
    """POST logged-models: a PENDING model with its artifact location."""
    model = api.client.create_logged_model(
        str(p.need("experiment_id")), name=p.text("name") or None,
        source_run_id=p.text("source_run_id") or None, model_type=p.text("model_type") or None,
        tags=p.tags(), params=p.tags("params"),
    )
    return _one(api, model)


def get_logged_model(api: Api, p: Params) -> dict:
    """GET logged-models/{model_id}[?allow_deleted=true]."""
    return _one(api, api.client.get_logged_model(p.need("model_id"), p.flag("allow_deleted")))


def finalize_logged_model(api: Api, p: Params) -> dict:
    """PATCH logged-models/{model_id}: set the final status."""
    return _one(api, api.client.finalize_logged_model(p.need("model_id"), _status(p.need("status"))))


def delete_logged_model(api: Api, p: Params) -> dict:
    """DELETE logged-models/{model_id}."""
    api.client.delete_logged_model(p.need("model_id"))
    return {}


def set_logged_model_tags(api: Api, p: Params) -> dict:
    """PATCH logged-models/{model_id}/tags."""
    api.client.set_logged_model_tags(p.need("model_id"), p.tags())
    return {}


def delete_logged_model_tag(api: Api, p: Params) -> dict:
    """DELETE logged-models/{model_id}/tags/{tag_key}."""
    api.client.delete_logged_model_tag(p.need("model_id"), p.need("tag_key"))
    return {}


def log_logged_model_params(api: Api, p: Params) -> dict:
    """POST logged-models/{model_id}/params."""
    api.client.log_logged_model_params(p.need("model_id"), p.tags("params"))
    return {}


def search_logged_models(api: Api, p: Params) -> dict:
    """POST logged-models/search: filter, datasets, order_by and page tokens, as MLflow's."""
    datasets = [_dataset(d) for d in p.objects("datasets")]
    extra = {"datasets": datasets} if datasets else {}
    models = api.client.search_logged_models(
        [str(e) for e in p.many("experiment_ids")], filter_string=p.text("filter") or None,
        max_results=p.integer("max_results") or DEFAULT_MAX_RESULTS,
        order_by=[_order(o) for o in p.objects("order_by")] or None,
        page_token=p.text("page_token") or None, **extra,
    )
    token = models.token
    out: dict = {"models": [logged_model(m, api) for m in models]}
    if token:
        out["next_page_token"] = token
    return out


def _dataset(d: Params) -> dict:
    """One ``DatasetFilter`` (``dataset_name`` required, ``dataset_digest`` optional)."""
    if not d.text("dataset_name"):
        raise InvalidParameterError(
            "`dataset_name` in the `datasets` clause must be specified (missing "
            f"'{d.name('dataset_name')}').")
    out = {"dataset_name": d.text("dataset_name")}
    if d.text("dataset_digest"):
        out["dataset_digest"] = d.text("dataset_digest")
    return out


def _order(o: Params) -> dict:
    """One ``OrderBy`` object of a logged-model search, typed."""
    out = {"field_name": o.need("field_name"), "ascending": o.flag("ascending", True)}
    for name in ("dataset_name", "dataset_digest"):
        if o.text(name):
            out[name] = o.text(name)
    return out


def list_logged_model_artifacts(api: Api, p: Params) -> dict:
    """GET logged-models/{model_id}/artifacts/directories: one level of the model's files."""
    model = api.client.get_logged_model(p.need("model_id"))
    root = api.uris.readable(model.artifact_location, f"artifacts of logged model {model.model_id}")
    files = list_dir(root, listed(p.text("artifact_directory_path") or ""))
    return {"root_uri": api.uris.to_remote(model.artifact_location),
            "files": [shapes.file_info(f) for f in files]}


def log_outputs(api: Api, p: Params) -> dict:
    """POST runs/outputs: the models a run produced (MLflow's ``LoggedModelOutput``)."""
    models = p.objects("models")
    if not models:
        raise InvalidParameterError("Missing value for required parameter 'models'.")
    outputs = [(m.need("model_id"), m.integer("step", 0)) for m in models]
    api.client.log_model_outputs(p.need("run_id"), outputs)
    return {}


def run_outputs(api: Api, run_id: str) -> dict:
    """A ``RunOutputs`` message for a run (empty when it logged no models)."""
    outputs = api.client.get_model_outputs([run_id]).get(run_id, [])
    return {"model_outputs": [{"model_id": m, "step": s} for m, s in outputs]} if outputs else {}


# -- links to the rest of the API --------------------------------------------------------
def log_model_metrics(api: Api, run_id: str, raw: list[dict]) -> None:
    """Record metrics sent with a ``model_id`` (in log-batch or log-metric) on their models.

    Args:
        api: the REST API state.
        run_id: the run the metrics were logged to.
        raw: typed metric fields (``tracking.metric_fields``).
    """
    by_model: dict[str, list[LoggedModelMetric]] = {}
    for m in raw:
        if m.get("model_id"):
            by_model.setdefault(m["model_id"], []).append(LoggedModelMetric(
                m["key"], m["value"], m["timestamp"], m["step"], run_id,
                m["dataset_name"] or None, m["dataset_digest"] or None))
    for model_id, metrics in by_model.items():
        api.client.log_logged_model_metrics(model_id, metrics)


def resolve_source(api: Api, source: str, model_id: str | None) -> tuple[str, str | None, str | None]:
    """Map a version source ``models:/<model_id>`` to the model's local folder.

    Returns:
        ``(source, model_id, source_run_id)``; a source that is not a logged model
        comes back unchanged with ``model_id`` (if given) and no run id.

    Raises:
        ResourceNotFoundError: if the logged model does not exist.
        InvalidParameterError: if ``model_id`` disagrees with the source.
    """
    uri_id = _model_id_in(source)
    if uri_id and model_id and uri_id != model_id:
        raise InvalidParameterError(
            f"Invalid model version source {source!r}: it names logged model {uri_id!r} but "
            f"model_id is {model_id!r}."
        )
    model_id = uri_id or model_id
    if not model_id:
        return source, None, None
    model = api.client.get_logged_model(model_id)
    if uri_id:
        source = model.artifact_location
    return source, model_id, model.source_run_id


def _model_id_in(source: str) -> str | None:
    """The id in ``models:/<model_id>`` (not ``models:/<name>/<version>``), else ``None``."""
    if not source.startswith("models:/"):
        return None
    rest = source[len("models:/"):].strip("/")
    return rest if rest.startswith("m-") and "/" not in rest else None


def record_registration(api: Api, model_id: str, name: str, version: str) -> None:
    """Add ``{name, version}`` to the logged model's ``mlflow.modelVersions`` tag.

    The version is a JSON number there, as MLflow writes it (``[{"name": "m", "version": 1}]``).
    """
    tags = api.client.get_logged_model(model_id).tags
    entries = [{"name": e["name"], "version": _number(e["version"])}
               for e in _registrations(tags)]
    entry = {"name": name, "version": _number(version)}
    if entry not in entries:
        entries.append(entry)
    api.client.set_logged_model_tags(model_id, {MODEL_VERSIONS_TAG: json.dumps(entries)})


def _number(version) -> int | str:
    text = str(version)
    return int(text) if text.isdigit() else text
