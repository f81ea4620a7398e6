"""``RestStore``: the tracking and registry store behind ``http(s)://host:port`` URIs.

It speaks the MLflow REST API of a ``kernelflow ui`` server (or an MLflow
server), with the method names the client calls on ``SqliteStore``. Writes still
go through the background writer: :meth:`RestStore.write_batch` turns one
batch into ``runs/log-batch`` calls that respect MLflow's limits.

Authentication: ``KERNELFLOW_TOKEN`` (or ``MLFLOW_TRACKING_TOKEN``) is sent as
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from array import array
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .. import codec
from ..codec import metric_json
from ..entities import (
    Experiment,
    MetricHistory,
    Run,
    RunInfo,
)
from ..errors import (
    InvalidStateError,
    KernelflowError,
    ResourceNotFoundError,
    StoreError,
)
from ..ops import DeleteTag, Op, SetParam, SetStatus, SetTag
from .datasets import DatasetInput
from .protocol import STORE_METHODS
from .rest_artifacts import RestArtifactRepository
from .rest_evaluation import RestEvaluationDatasetMixin
from .rest_http import RestTransport, error_from_response
from .rest_logged_models import RestLoggedModelMixin
from .rest_registry import RestRegistryMixin
from .rest_traces import RestTraceMixin

MAX_METRICS, MAX_PARAMS, MAX_TAGS, MAX_TOTAL = 1000, 100, 100, 1000
HISTORY_PAGE = 100_000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

class RestStore(RestLoggedModelMixin, RestRegistryMixin, RestTraceMixin,
                RestEvaluationDatasetMixin, RestTransport):
    """A tracking store reached over HTTP.

    Args:
        uri: the server's base URL, like ``http://127.0.0.1:5000``.
        token: bearer token; defaults to ``KERNELFLOW_TOKEN`` or ``MLFLOW_TRACKING_TOKEN``.
        session: a ``requests.Session`` to use (a seam for tests); one is made if None.
    """

    # -- experiments -----------------------------------------------------------
    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: dict | None = None) -> str:
        body = {"name": name, "artifact_location": artifact_location, "tags": _kv(tags)}
        return self.call("POST", "experiments/create", body)["experiment_id"]

    def get_experiment(self, experiment_id) -> Experiment:
        data = self.call("GET", "experiments/get", {"experiment_id": str(experiment_id)})
        return _experiment(data["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            data = self.call("GET", "experiments/get-by-name", {"experiment_name": name})
        except ResourceNotFoundError:
            return None
        return _experiment(data["experiment"])

    def search_experiments(self, view_type: str = "ACTIVE_ONLY", max_results: int = 1000,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: str | None = None) -> tuple[list[Experiment], str | None]:
        body: dict[str, Any] = {"view_type": view_type, "max_results": max_results,
                                "page_token": page_token, "filter": filter_string,
                                "order_by": list(order_by or [])}
        data = self.call("POST", "experiments/search", body)
        return [_experiment(e) for e in data.get("experiments", [])], data.get("next_page_token")

    def delete_experiment(self, experiment_id) -> None:
        self.call("POST", "experiments/delete", {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id) -> None:
        self.call("POST", "experiments/restore", {"experiment_id": str(experiment_id)})

    def rename_experiment(self, experiment_id, new_name: str) -> None:
        self.call("POST", "experiments/update",
                  {"experiment_id": str(experiment_id), "new_name": new_name})

    def set_experiment_tag(self, experiment_id, key: str, value) -> None:
        self.call("POST", "experiments/set-experiment-tag",
                  {"experiment_id": str(experiment_id), "key": key, "value": str(value)})

    def delete_experiment_tag(self, experiment_id, key: str) -> None:
        self.call("POST", "experiments/delete-experiment-tag",
                  {"experiment_id": str(experiment_id), "key": key})

    def count_runs_by_experiment(self) -> dict[str, int]:
        return self.call("GET", "experiments/run-counts", prefix="kernelflow")["counts"]

    # -- runs --------------------------------------------------------------------
    def create_run(self, experiment_id, user_id: str, start_time: int | None, run_name: str,
                   tags: dict | None = None, parent_run_id: str | None = None,
                   source_notebook: str | None = None) -> Run:
        tags = dict(tags or {})
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        if source_notebook:
            tags.setdefault("mlflow.source.name", source_notebook)
        body = {"experiment_id": str(experiment_id), "user_id": user_id, "start_time": start_time,
                "run_name": run_name, "tags": _kv(tags)}
        return _run(self.call("POST", "runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        return _run(self.call("GET", "runs/get", {"run_id": run_id})["run"])

    def get_run_info(self, run_id: str) -> RunInfo:
        return self.get_run(run_id).info

    def get_params(self, run_id: str) -> dict[str, str]:
        return dict(self.get_run(run_id).data.params)

    def get_metric_keys(self, run_id: str) -> list[str]:
        return sorted(self.get_run(run_id).data.metrics)

    def update_run_info(self, run_id: str, status: str | None = None, end_time: int | None = None,
                        run_name: str | None = None) -> RunInfo:
        body = {"run_id": run_id, "status": status, "end_time": end_time, "run_name": run_name}
        return _info(self.call("POST", "runs/update", body)["run_info"])

    def delete_run(self, run_id: str) -> None:
        self.call("POST", "runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self.call("POST", "runs/restore", {"run_id": run_id})

    # -- inputs ------------------------------------------------------------------
    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None,
                   model_ids: list[str] | None = None) -> None:
        body = {"run_id": run_id, "datasets": [_dataset_input_json(d) for d in datasets or []],
                "models": [{"model_id": m} for m in model_ids or []]}
        self.call("POST", "runs/log-inputs", body)

    def search_dataset_summaries(self, experiment_ids: list[str],
                                 limit: int = 1000) -> list[dict[str, str | None]]:
        data = self.call("POST", "experiments/search-datasets",
                         {"experiment_ids": [str(e) for e in experiment_ids]})
        return [{"experiment_id": s.get("experiment_id"), "name": s.get("name"),
                 "digest": s.get("digest"), "context": s.get("context")}
                for s in data.get("dataset_summaries", [])][:limit]

    def get_dataset_inputs(self, run_ids: list[str]) -> dict[str, list[DatasetInput]]:
        out = {}
        for run_id in run_ids:
            inputs = self.call("GET", "runs/get", {"run_id": run_id})["run"].get("inputs", {})
            if inputs.get("dataset_inputs"):
                out[run_id] = [_dataset_input(d) for d in inputs["dataset_inputs"]]
        return out

    def get_model_inputs(self, run_id: str) -> list[str]:
        inputs = self.call("GET", "runs/get", {"run_id": run_id})["run"].get("inputs", {})
        return [m["model_id"] for m in inputs.get("model_inputs", [])]

    # -- search --------------------------------------------------------------------
    def search_runs(self, experiment_ids: list, filter_string: str | None = None,
                    run_view_type: str = "ACTIVE_ONLY", max_results: int = 1000,
                    order_by: list[str] | None = None, page_token: str | None = None,
                    ) -> tuple[list[Run], str | None]:
        body = {"experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string or "",
                "run_view_type": run_view_type, "max_results": max_results,
                "order_by": order_by or [], "page_token": page_token}
        data = self.call("POST", "runs/search", body)
        return [_run(r) for r in data.get("runs", [])], data.get("next_page_token")

    def search_runs_columns(self, experiment_ids: list, **kwargs) -> tuple[dict, str | None]:
        """Search and return column lists shaped like ``mlflow.search_runs``' DataFrame."""
        runs, token = self.search_runs(experiment_ids, **kwargs)
        return _columns(runs), token

    def search_runs_frame(self, experiment_ids: list, **kwargs):
        """Search and return ``(DataFrame, token)`` shaped like ``mlflow.search_runs``' result."""
        import pandas as pd

        columns, token = self.search_runs_columns(experiment_ids, **kwargs)
        frame = pd.DataFrame(columns)
        for name in ("start_time", "end_time"):
            frame[name] = pd.to_datetime(pd.Series(frame[name], dtype="float64"), unit="ms",
                                         utc=True)
        fixed = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
        return frame[fixed + sorted(c for c in frame.columns if c not in fixed)], token

    def get_experiment_keys(self, experiment_ids: list,
                            run_view_type: str = "ACTIVE_ONLY") -> dict[str, list[str]]:
        """Distinct metric, param and tag keys over the runs of some experiments (all pages)."""
        keys: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
        token = None
        while True:
            runs, token = self.search_runs(experiment_ids, run_view_type=run_view_type,
                                           max_results=1000, page_token=token)
            for r in runs:
                keys["metrics"].update(r.data.metrics)
                keys["params"].update(r.data.params)
                keys["tags"].update(r.data.tags)
            if not token:
                return {k: sorted(v) for k, v in keys.items()}

    def count_runs(self, experiment_ids: list, filter_string: str | None = None,
                   run_view_type: str = "ACTIVE_ONLY") -> int:
        body = {"experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string or "",
                "run_view_type": run_view_type}
        return int(self.call("POST", "runs/count", body, prefix="kernelflow")["count"])

    # -- metrics -------------------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        ts: list[int] = []
        steps: list[int] = []
        values: list[float] = []
        token = None
        while True:
            body = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE,
                    "page_token": token}
            data = self.call("GET", "metrics/get-history", body)
            for m in data.get("metrics", []):
                ts.append(int(m.get("timestamp", 0)))
                steps.append(int(m.get("step", 0)))
                values.append(float(m.get("value", "NaN")))
            token = data.get("next_page_token")
            if not token:
                break
        return MetricHistory(key, np.array(ts, dtype=np.int64), np.array(steps, dtype=np.int64),
                             np.array(values, dtype=np.float64))

    # -- the writer's batches ------------------------------------------------------------
    def write_batch(self, ops: list[Op], metrics: dict[tuple[str, str], array]) -> list[str]:
        """Send queued ops and metric points as ``log-batch`` calls (MLflow's limits).

        What was sent is removed from ``ops`` and ``metrics`` in place, so when the
        server cannot be reached the writer's retry sends only the rest. Values the
        server refuses (4xx) are returned as messages, like SqliteStore's conflicts.
        """
        conflicts: list[str] = []
        self._send_ops(ops, conflicts)
        self._send_metrics(metrics, conflicts)
        return conflicts

    def _send(self, endpoint: str, body: dict, conflicts: list[str]) -> None:
        try:
            self.call("POST", endpoint, body)
        except KernelflowError as exc:
            if isinstance(exc, StoreError) or exc.http_status >= 500:
                raise
            conflicts.append(exc.message)

    def _send_ops(self, ops: list[Op], conflicts: list[str]) -> None:
        done = 0
        try:
            while done < len(ops):
                done = self._send_op_group(ops, done, conflicts)
        finally:
            del ops[:done]

    def _send_op_group(self, ops: list[Op], start: int, conflicts: list[str]) -> int:
        """Send ops from ``start`` (one call); return the index after the last one sent."""
        first = ops[start]
        run_id = first.run_id
        if isinstance(first, DeleteTag):
            self._send("runs/delete-tag", {"run_id": run_id, "key": first.key}, conflicts)
            return start + 1
        if isinstance(first, SetStatus):
            self._send("runs/update", {"run_id": run_id, "status": first.status,
                                       "end_time": first.end_time}, conflicts)
            return start + 1
        params: list[dict] = []
        tags: list[dict] = []
        i = start
        while i < len(ops) and isinstance(op := ops[i], SetParam | SetTag) and op.run_id == run_id:
            bucket, limit = (params, MAX_PARAMS) if isinstance(op, SetParam) else (tags, MAX_TAGS)
            if len(bucket) >= limit:
                break
            bucket.append({"key": op.key, "value": str(op.value)})
            i += 1
        self._send("runs/log-batch", {"run_id": run_id, "params": params, "tags": tags}, conflicts)
        return i

    def _send_metrics(self, metrics: dict[tuple[str, str], array], conflicts: list[str]) -> None:
        sent: dict[tuple[str, str], int] = {}
        try:
            for batch_run, batch in _metric_batches(metrics):
                self._send("runs/log-batch", {"run_id": batch_run, "metrics": [
                    m for _, _, ms in batch for m in ms]}, conflicts)
                for key, n, _ in batch:
                    sent[(batch_run, key)] = sent.get((batch_run, key), 0) + n
        finally:
            for k, n in sent.items():
                if n * 3 >= len(metrics[k]):
                    del metrics[k]
                else:
                    del metrics[k][:n * 3]

    # -- artifacts -------------------------------------------------------------------
    def artifact_repository(self, info: RunInfo):
        """The run's artifacts: over HTTP for ``mlflow-artifacts:`` URIs, else a local folder.

        A server-side folder outside the server's artifact root is only used when the
        server runs on this machine (a loopback address): from anywhere else, writing
        there would silently put the files on this machine's disk instead.

        Raises:
            InvalidStateError: for a server-side folder when the server is elsewhere.
        """
        if info.artifact_uri.startswith("mlflow-artifacts:"):
            return RestArtifactRepository(self.session, self.uri, info.artifact_uri)
        if urlparse(self.uri).hostname not in LOOPBACK_HOSTS:
            raise InvalidStateError(
                f"Run {info.run_id}'s artifacts are in {info.artifact_uri!r} on the server, "
                f"outside its artifact root, so {self.uri} cannot serve them over HTTP. Log "
                "them on the server's machine, or use an experiment under the server's root."
            )
        from ..artifacts import LocalArtifactRepository

        return LocalArtifactRepository(info.artifact_uri)

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()


def _metric_batches(metrics: dict[tuple[str, str], array]):
    """Yield (run_id, [(key, n_points, [metric json...])]) with at most 1000 points each."""
    by_run: dict[str, list[str]] = {}
    for run_id, key in metrics:
        by_run.setdefault(run_id, []).append(key)
    for run_id, keys in by_run.items():
        batch: list[tuple[str, int, list[dict]]] = []
        room = MAX_METRICS
        for key in keys:
            points = np.frombuffer(metrics[(run_id, key)], dtype=np.float64).reshape(-1, 3)
            start = 0
            while start < len(points):
                part = points[start:start + room]
                batch.append((key, len(part), [
                    {"key": key, "value": metric_json(v), "timestamp": int(t), "step": int(s)}
                    for t, s, v in part.tolist()
                ]))
                start += len(part)
                room -= len(part)
                if room == 0:
                    yield run_id, batch
                    batch, room = [], MAX_METRICS
        if batch:
            yield run_id, batch


def _columns(runs: list[Run]) -> dict[str, list]:
    n = len(runs)
    cols: dict[str, list] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [r.info.start_time for r in runs],
        "end_time": [r.info.end_time for r in runs],
    }
    for i, r in enumerate(runs):
        for prefix, items in (("metrics.", r.data.metrics), ("params.", r.data.params),
                              ("tags.", r.data.tags)):
            for k, v in items.items():
                cols.setdefault(prefix + k, [None] * n)[i] = v
    return cols


def _int(value) -> int | None:
    return None if value is None else int(value)


def _unsupported(name: str):
    def method(self, *args, **kwargs):
        raise KernelflowError(
            f"{name} is not available over HTTP (tracking URI {self.uri}): this server does not "
            "offer it. Use the server's SQLite file as the tracking URI instead "
            "(sqlite:///path/to/kernelflow.db).")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Not available over HTTP: raises KernelflowError ({name})."
    return method


# The Store protocol's members this backend cannot serve say so instead of AttributeError.
for _name in sorted(STORE_METHODS - set(dir(RestStore))):
    setattr(RestStore, _name, _unsupported(_name))


# The one codec (kernelflow.codec) decodes what the server encodes.
_kv, _kv_dict = codec.kv_list, codec.kv_dict
_experiment, _info, _run = codec.experiment_from_json, codec.run_info_from_json, codec.run_from_json
_version, _model = codec.model_version_from_json, codec.registered_model_from_json
_dataset_input_json, _dataset_input = codec.dataset_input_json, codec.dataset_input_from_json

__all__ = ["RestStore", "error_from_response", "metric_json"]
