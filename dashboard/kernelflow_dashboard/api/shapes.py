"""kernelflow entities as MLflow's REST JSON (the proto field names, snake_case)."""

from __future__ import annotations

from typing import Any

from kernelflow import codec
from kernelflow.codec import kv_list, metric_json

from .uris import ArtifactUris

__all__ = ["kv_list", "metric_json", "experiment", "run_info", "run", "metric_points",
           "file_info", "model_version", "registered_model"]


def experiment(exp, uris: ArtifactUris) -> dict[str, Any]:
    """An ``Experiment`` message, its location as the client should see it."""
    return codec.experiment_json(exp, uris.to_remote)


def run_info(info, uris: ArtifactUris) -> dict[str, Any]:
    """A ``RunInfo`` message."""
    return codec.run_info_json(info, uris.to_remote)


def run(r, uris: ArtifactUris) -> dict[str, Any]:
    """A ``Run`` message; each latest metric carries its own step and timestamp."""
    return codec.run_json(r, uris.to_remote)


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
    return codec.model_version_json(mv, uris.to_remote)


def registered_model(rm, uris: ArtifactUris) -> dict[str, Any]:
    """A ``RegisteredModel`` message."""
    return codec.registered_model_json(rm, uris.to_remote)
