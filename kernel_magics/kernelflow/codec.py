"""MLflow's REST JSON for kernelflow's entities, both ways: the one codec.

The REST server encodes with the ``*_json`` functions, the HTTP store decodes
with the ``*_from_json`` ones, so the two can't drift. Field names are MLflow's
proto names (snake_case). Encoders take an optional ``uri`` function that maps a
stored artifact location to the URI a client should see (the server maps local
paths to ``mlflow-artifacts:/``); decoders keep what they are given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .entities import Experiment, Metric, ModelVersion, RegisteredModel, Run, RunData, RunInfo
from .store.datasets import Dataset, DatasetInput
from .store.logged_models import LoggedModel, LoggedModelMetric

__all__ = [
    "drop_none", "kv_list", "kv_dict", "metric_json", "metric_value",
    "experiment_json", "experiment_from_json", "run_info_json", "run_info_from_json",
    "run_json", "run_from_json", "model_version_json", "model_version_from_json",
    "registered_model_json", "registered_model_from_json", "dataset_input_json",
    "dataset_input_from_json", "logged_model_from_json", "LOGGED_MODEL_STATUS_IN",
    "LOGGED_MODEL_STATUS_OUT",
]

# MLflow's LoggedModelStatus enum (proto names and numbers) <-> the store's names.
LOGGED_MODEL_STATUS_IN = {
    "LOGGED_MODEL_PENDING": "PENDING", "LOGGED_MODEL_READY": "READY",
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED", "1": "PENDING", "2": "READY", "3": "FAILED",
    "PENDING": "PENDING", "READY": "READY", "FAILED": "FAILED"}
LOGGED_MODEL_STATUS_OUT = {"PENDING": "LOGGED_MODEL_PENDING", "READY": "LOGGED_MODEL_READY",
                           "FAILED": "LOGGED_MODEL_UPLOAD_FAILED"}

UriMap = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    """The message without its unset (None) fields, as MLflow's JSON leaves them out."""
    return {k: v for k, v in d.items() if v is not None}


_drop_none = drop_none


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def kv_list(items: dict[str, Any] | None) -> list[dict[str, str]]:
    """``{"k": "v"}`` as MLflow's ``[{"key": "k", "value": "v"}]``."""
    return [{"key": k, "value": str(v)} for k, v in (items or {}).items()]


def kv_dict(items: list[dict] | None) -> dict[str, str]:
    """MLflow's ``[{"key": "k", "value": "v"}]`` as ``{"k": "v"}``."""
    return {t["key"]: t.get("value", "") for t in items or []}


def metric_json(value: float) -> float | str:
    """MLflow's JSON for a metric value: a number, or the strings for NaN and infinities."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_value(value: Any) -> float:
    """A metric value from MLflow's JSON (a number or "NaN" / "Infinity" / "-Infinity")."""
    return float(value)


# -- experiments ------------------------------------------------------------------------
def experiment_json(exp: Experiment, uri: UriMap = _same) -> dict[str, Any]:
    """An ``Experiment`` message."""
    return _drop_none({
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": uri(exp.artifact_location),
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": kv_list(exp.tags),
    })


def experiment_from_json(d: dict) -> Experiment:
    """An :class:`Experiment` from its message."""
    return Experiment(
        str(d["experiment_id"]), d.get("name", ""), d.get("artifact_location", ""),
        d.get("lifecycle_stage", "active"), kv_dict(d.get("tags")),
        _int(d.get("creation_time")), _int(d.get("last_update_time")),
    )


# -- runs -----------------------------------------------------------------------------------
def run_info_json(info: RunInfo, uri: UriMap = _same) -> dict[str, Any]:
    """A ``RunInfo`` message (``run_uuid`` too, as MLflow still sends it)."""
    return _drop_none({
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": uri(info.artifact_uri),
        "lifecycle_stage": info.lifecycle_stage,
    })


def run_info_from_json(d: dict) -> RunInfo:
    """A :class:`RunInfo` from its message."""
    return RunInfo(
        str(d.get("run_id") or d.get("run_uuid") or ""), str(d.get("experiment_id", "")),
        d.get("run_name", ""), d.get("user_id", ""), d.get("status", "RUNNING"),
        _int(d.get("start_time")), _int(d.get("end_time")), d.get("artifact_uri", ""),
        d.get("lifecycle_stage", "active"),
    )


def run_json(r: Run, uri: UriMap = _same) -> dict[str, Any]:
    """A ``Run`` message; each latest metric carries its own step and timestamp."""
    latest = r.data.latest_metrics
    metrics = [
        {"key": k, "value": metric_json(v),
         "timestamp": latest[k].timestamp if k in latest else 0,
         "step": latest[k].step if k in latest else 0}
        for k, v in r.data.metrics.items()
    ]
    return {
        "info": run_info_json(r.info, uri),
        "data": {"metrics": metrics, "params": kv_list(r.data.params),
                 "tags": kv_list(r.data.tags)},
        "inputs": {},
    }


def run_from_json(d: dict) -> Run:
    """A :class:`Run` from its message (latest metrics keep their step and timestamp)."""
    data = d.get("data", {})
    latest = {
        m["key"]: Metric(m["key"], metric_value(m.get("value", "NaN")),
                         int(m.get("timestamp", 0)), int(m.get("step", 0)))
        for m in data.get("metrics", [])
    }
    metrics = {k: m.value for k, m in latest.items()}
    return Run(run_info_from_json(d["info"]),
               RunData(metrics, kv_dict(data.get("params")), kv_dict(data.get("tags")), latest))


# -- registry ---------------------------------------------------------------------------------
def model_version_json(mv: ModelVersion, uri: UriMap = _same) -> dict[str, Any]:
    """A ``ModelVersion`` message."""
    return _drop_none({
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "description": mv.description,
        "source": uri(mv.source),
        "run_id": mv.run_id,
        "run_link": getattr(mv, "run_link", None),
        "status": mv.status,
        "current_stage": mv.current_stage,
        "tags": kv_list(mv.tags),
        "aliases": list(mv.aliases or []),
    })


def model_version_from_json(d: dict) -> ModelVersion:
    """A :class:`ModelVersion` from its message."""
    return ModelVersion(
        d["name"], str(d["version"]), _int(d.get("creation_timestamp")),
        _int(d.get("last_updated_timestamp")), d.get("description"), d.get("source"),
        d.get("run_id"), d.get("status", "READY"), d.get("current_stage", "None"),
        kv_dict(d.get("tags")), list(d.get("aliases", [])),
    )


def registered_model_json(rm: RegisteredModel, uri: UriMap = _same) -> dict[str, Any]:
    """A ``RegisteredModel`` message."""
    aliases = rm.aliases or {}
    if not isinstance(aliases, dict):  # tolerate a list of (alias, version) pairs
        aliases = dict(aliases)
    return _drop_none({
        "name": rm.name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
        "description": rm.description,
        "latest_versions": [model_version_json(v, uri) for v in rm.latest_versions or []],
        "tags": kv_list(rm.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in aliases.items()],
    })


def registered_model_from_json(d: dict) -> RegisteredModel:
    """A :class:`RegisteredModel` from its message."""
    return RegisteredModel(
        d["name"], _int(d.get("creation_timestamp")), _int(d.get("last_updated_timestamp")),
        d.get("description"), kv_dict(d.get("tags")),
        {a["alias"]: str(a["version"]) for a in d.get("aliases", [])},
        [model_version_from_json(v) for v in d.get("latest_versions", [])],
    )


# -- datasets -------------------------------------------------------------------------------
def dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    """A ``DatasetInput`` message (a dataset and its input tags)."""
    d = item.dataset
    dataset = {"name": d.name, "digest": d.digest, "source_type": d.source_type,
               "source": d.source, "schema": d.schema, "profile": d.profile}
    return {"tags": kv_list(item.tags), "dataset": _drop_none(dataset)}


def dataset_input_from_json(d: dict) -> DatasetInput:
    """A :class:`DatasetInput` from its message."""
    ds = d.get("dataset", {})
    return DatasetInput(Dataset(ds.get("name", ""), ds.get("digest", ""), ds.get("source_type", ""),
                                ds.get("source", ""), ds.get("schema"), ds.get("profile")),
                        kv_dict(d.get("tags")))


# -- logged models (MLflow 3) ------------------------------------------------------------------
def logged_model_from_json(d: dict) -> LoggedModel:
    """A :class:`LoggedModel` from a ``LoggedModel`` message (``info`` and ``data``)."""
    info, data = d.get("info", {}), d.get("data", {})
    model_id = info["model_id"]
    metrics = [LoggedModelMetric(m["key"], metric_value(m.get("value", "NaN")),
                                 int(m.get("timestamp", 0)), int(m.get("step", 0)),
                                 m.get("run_id"), m.get("dataset_name"), m.get("dataset_digest"))
               for m in data.get("metrics", []) if m.get("model_id", model_id) == model_id]
    return LoggedModel(
        model_id, str(info.get("experiment_id", "")), info.get("name", ""),
        info.get("source_run_id"),
        LOGGED_MODEL_STATUS_IN.get(str(info.get("status", "PENDING")), "PENDING"),
        info.get("status_message"), info.get("artifact_uri", ""),
        int(info.get("creation_timestamp_ms", 0)), int(info.get("last_updated_timestamp_ms", 0)),
        info.get("model_type"), "active", kv_dict(info.get("tags")),
        kv_dict(data.get("params")), metrics)
