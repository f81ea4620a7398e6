"""kernelflow entities as MLflow's REST JSON (the proto field names, snake_case)."""

from __future__ import annotations

from typing import Any

from kernelflow.store.rest import metric_json

from .uris import ArtifactUris


def kv_list(items: dict[str, Any] | None) -> list[dict[str, str]]:
    """``{"k": "v"}`` as MLflow's ``[{"key": "k", "value": "v"}]``."""
    return [{"key": k, "value": str(v)} for k, v in (items or {}).items()]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def experiment(exp, uris: ArtifactUris) -> dict[str, Any]:
    """An ``Experiment`` message."""
    return _drop_none({
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": uris.to_remote(exp.artifact_location),
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": kv_list(exp.tags),
    })


def run_info(info, uris: ArtifactUris) -> dict[str, Any]:
    """A ``RunInfo`` message."""
    return _drop_none({
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": uris.to_remote(info.artifact_uri),
        "lifecycle_stage": info.lifecycle_stage,
    })


def run(r, uris: ArtifactUris) -> dict[str, Any]:
    """A ``Run`` message; each latest metric carries its own step and timestamp."""
    latest = r.data.latest_metrics
    metrics = [
        {"key": k, "value": metric_json(v),
         "timestamp": latest[k].timestamp if k in latest else 0,
         "step": latest[k].step if k in latest else 0}
        for k, v in r.data.metrics.items()
    ]
    return {
        "info": run_info(r.info, uris),
        "data": {
            "metrics": metrics,
            "params": kv_list(r.data.params),
            "tags": kv_list(r.data.tags),
        },
        "inputs": {},
    }


def metric_points(history, limit: int | None = None) -> list[dict[str, Any]]:
    """A metric history (numpy-backed) as a list of ``Metric`` messages."""
    n = len(history) if limit is None else min(limit, len(history))
    keys, ts, steps, vals = history.key, history.timestamps, history.steps, history.values
    return [
        {"key": keys, "value": metric_json(float(vals[i])), "timestamp": int(ts[i]),
         "step": int(steps[i])}
        for i in range(n)
    ]


def file_info(info, basename_only: bool = False) -> dict[str, Any]:
    """A ``FileInfo`` message."""
    path = info.path.rsplit("/", 1)[-1] if basename_only else info.path
    out: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        out["file_size"] = info.file_size
    return out


def model_version(mv, uris: ArtifactUris) -> dict[str, Any]:
    """A ``ModelVersion`` message."""
    return _drop_none({
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "description": mv.description,
        "source": uris.to_remote(mv.source),
        "run_id": mv.run_id,
        "run_link": getattr(mv, "run_link", None),
        "status": mv.status,
        "current_stage": mv.current_stage,
        "tags": kv_list(mv.tags),
        "aliases": list(mv.aliases or []),
    })


def registered_model(rm, uris: ArtifactUris) -> dict[str, Any]:
    """A ``RegisteredModel`` message."""
    aliases = rm.aliases or {}
    if not isinstance(aliases, dict):  # tolerate a list of (alias, version) pairs
        aliases = dict(aliases)
    return _drop_none({
        "name": rm.name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
        "description": rm.description,
        "latest_versions": [model_version(v, uris) for v in rm.latest_versions or []],
        "tags": kv_list(rm.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in aliases.items()],
    })
