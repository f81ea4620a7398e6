"""``Client``: the explicit-id API (MLflow's ``MlflowClient``)."""

from __future__ import annotations

import functools
import getpass
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import config
from .entities import Experiment, Metric, MetricHistory, Param, Run, RunInfo, RunTag
from .errors import InvalidParameterError, InvalidStateError
from .genai.client import EvaluationDatasetClient
from .ops import DeleteTag, Op, SetParam, SetStatus, SetTag
from .registry import RegistryClient
from .tracing.client import TraceClient
from .validation import (
    MAX_EXACT_INT,
    _valid_keys,
    check_batch_limits,
    check_key,
    check_metric_value,
    check_param_value,
    check_run_status,
    check_step,
    check_tag_value,
    check_timestamp,
)
from .writer import Writer

if TYPE_CHECKING:  # pragma: no cover
    from .store.protocol import Store

_stores: dict[str, Any] = {}
_stores_lock = threading.Lock()
_default_client: Client | None = None



class PagedList(list):
    """A list of results with the ``token`` of the next page (None on the last)."""

    def __init__(self, items, token: str | None) -> None:
        super().__init__(items)
        self.token = token

    def _repr_html_(self) -> str | None:
        if self and all(isinstance(item, Run) for item in self):
            from .widgets.reprs import runs_html

            return runs_html(self)
        return None  # IPython falls back to the plain repr


def get_store(uri: str | None = None):
    """Return the (cached, per process) store for a tracking URI."""
    loc = config.resolve(uri or config.get_tracking_uri())
    with _stores_lock:
        store = _stores.get(loc.uri)
        if store is None:
            if loc.scheme == "http":
                from .store.rest import RestStore

                store = RestStore(loc.uri)
            else:
                from .store import SqliteStore

                assert loc.db_path and loc.artifact_root  # resolve() sets both for sqlite
                store = SqliteStore(loc.db_path, loc.artifact_root)
            store.writer = Writer(store)  # type: ignore[union-attr]
            _stores[loc.uri] = store
        return store


def reset_default_client() -> None:
    """Forget the default client so the next call uses the current tracking URI."""
    global _default_client
    _default_client = None


def default_client() -> Client:
    """The client for the current tracking URI."""
    global _default_client
    c = _default_client
    if c is None or c.tracking_uri != config.get_tracking_uri():
        c = _default_client = Client()
    return c


@functools.lru_cache(maxsize=1)
def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class Client(TraceClient, EvaluationDatasetClient, RegistryClient):
    """Explicit-id access to experiments, runs and the model registry.

    Args:
        tracking_uri: ``sqlite:///file.db``, a ``.db`` path or ``http://host:port``;
            defaults to the current tracking URI.
        store: a store to use instead of the one cached for ``tracking_uri`` (a seam: a
            second ``SqliteStore`` on the same file acts like another process).
    """

    def __init__(self, tracking_uri: str | None = None, store: Store | None = None) -> None:
        self.tracking_uri = tracking_uri or config.get_tracking_uri()
        self._store: Store = store if store is not None else get_store(self.tracking_uri)
        if getattr(self._store, "writer", None) is None:
            self._store.writer = Writer(self._store)
        self._writer: Writer = self._store.writer
        self._open_runs: set[str] = set()
        self._params: dict[str, dict[str, str]] = {}

    # -- experiments ---------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict | None = None
    ) -> str:
        """Create an experiment and return its id."""
        return self._store.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id."""
        return self._store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return an experiment by name, or None."""
        if not isinstance(name, str):
            raise InvalidParameterError(f"An experiment name must be a string, got {name!r}.")
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """List experiments, newest first unless ``order_by`` says otherwise (as MLflow).

        Args:
            view_type: ACTIVE_ONLY, DELETED_ONLY or ALL.
            max_results: page size.
            filter_string: MLflow's experiment filter, e.g.
                ``"name LIKE 'iris%' AND tags.team = 'ml' AND creation_time > 1700000000000"``.
            order_by: terms over ``name``, ``experiment_id``, ``creation_time``,
                ``last_update_time`` with ASC/DESC.
            page_token: the ``token`` of a previous page.
        """
        max_results = _check_max_results(max_results)
        items, token = self._store.search_experiments(
            view_type, max_results, filter_string, order_by, page_token
        )
        return PagedList(items, token)

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment and its runs deleted (restorable)."""
        self._store.delete_experiment(experiment_id)
        self._open_runs.clear()

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and its runs."""
        self._store.restore_experiment(experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        self._store.rename_experiment(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag on an experiment."""
        self._store.set_experiment_tag(experiment_id, check_key(key, "tag key"), value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""
        self._store.delete_experiment_tag(experiment_id, key)

    # -- runs ----------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        source_notebook: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an experiment.

        Without ``start_time``, runs this process starts get strictly increasing start times
        (a run started in the same millisecond as the previous one is given the next one), so
        "newest first" always shows the run started last.
        """
        tags = {check_key(k, "tag key"): check_tag_value(k, v) for k, v in _mapping(tags, "tags").items()}
        if start_time is not None:
            start_time = check_timestamp(start_time, "start_time")
        else:
            start_time = _next_start_time()
        name = _run_name(run_name) or tags.get("mlflow.runName") or _generate_run_name()
        if parent_run_id:
            self.get_run(parent_run_id)
        user = tags.get("mlflow.user") or _user()
        run = self._store.create_run(
            experiment_id, user, start_time, name, tags, parent_run_id, source_notebook
        )
        self._open_runs.add(run.info.run_id)
        self._params[run.info.run_id] = {}
        return run

    def get_run(self, run_id: str) -> Run:
        """Return a run with its latest metrics, params and tags (after flushing queued logs)."""
        self.flush()
        return self._store.get_run(run_id)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status and/or name."""
        if status is not None:
            check_run_status(status)
        self.flush()
        end = int(time.time() * 1000) if status and status != "RUNNING" else None
        self._store.update_run_info(run_id, status, end, _run_name(name))

    def set_terminated(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        """End a run: its status and end time commit with everything queued, in one transaction."""
        check_run_status(status)
        if run_id not in self._open_runs:
            self._store.get_run_info(run_id)  # an unknown id is a clear error
        end = check_timestamp(end_time, "end_time") if end_time is not None else int(time.time() * 1000)
        self._writer.add_ops([SetStatus(run_id, status, end)])
        self.flush()

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted (restorable)."""
        self.flush()
        self._store.delete_run(run_id)
        self._open_runs.discard(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run."""
        self._store.restore_run(run_id)

    def _check_open(self, run_id: str) -> None:
        if run_id in self._open_runs:
            return
        info = self._store.get_run_info(run_id)
        if info.lifecycle_stage != "active":
            raise InvalidStateError(
                f"Run {run_id} is deleted; restore it with restore_run() before logging to it."
            )
        self._open_runs.add(run_id)

    # -- logging -------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log one metric point; returns at once, the writer commits it shortly.

        This is the hot path of all logging: every check has a fast case for
        the common types, and the point is only appended to a buffer.
        """
        if run_id not in self._open_runs:
            self._check_open(run_id)
        self._writer.log_points(
            run_id,
            key if (type(key) is str and key in _valid_keys) else check_key(key, "metric key"),
            (
                int(time.time() * 1000) if timestamp is None else check_timestamp(timestamp),
                step if (type(step) is int and -MAX_EXACT_INT <= step <= MAX_EXACT_INT)
                else check_step(step),
                value if type(value) is float else check_metric_value(key, value),
            ),
        )
        if synchronous:
            self.flush()

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param; params are immutable (the same value again is fine)."""
        self.log_batch(run_id, params=[Param(key, value)], synchronous=synchronous)
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        """Set a tag on a run (tags can change)."""
        self.log_batch(run_id, tags=[RunTag(key, value)], synchronous=synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a tag from a run."""
        self._check_open(run_id)
        self.flush()
        if key not in self._store.get_run(run_id).data.tags:
            from .errors import ResourceNotFoundError

            raise ResourceNotFoundError(
                f"No tag with name: {key} in run with id {run_id}: there is no tag to delete.")
        self._writer.add_ops([DeleteTag(run_id, key)])
        self.flush()

    def log_batch(
        self,
        run_id: str,
        metrics: list[Metric] = (),  # type: ignore[assignment]
        params: list[Param] = (),  # type: ignore[assignment]
        tags: list[RunTag] = (),  # type: ignore[assignment]
        synchronous: bool | None = None,
    ) -> None:
        """Log many metrics, params and tags at once (MLflow's limits apply)."""
        metrics, params, tags = list(metrics), list(params), list(tags)
        check_batch_limits(len(metrics), len(params), len(tags))
        self._check_open(run_id)
        # Validate everything before anything is queued or cached: a batch is all or nothing.
        tag_ops: list[Op] = [SetTag(run_id, *_tag_pair(t)) for t in tags]
        points = _group_points(metrics)
        ops = self._param_ops(run_id, params) + tag_ops
        if ops:
            self._writer.add_ops(ops)
        for key, flat in points.items():
            self._writer.log_points(run_id, key, flat)
        if synchronous:
            self.flush()

    def _param_ops(self, run_id: str, params: list[Param]) -> list[Op]:
        known = self._params.get(run_id)
        if known is None:
            self.flush()
            known = self._params[run_id] = self._store.get_params(run_id)
        staged: dict[str, str] = {}
        for p in params:
            if not isinstance(p, Param):
                raise InvalidParameterError(f"log_batch takes kernelflow.Param objects as params, got {p!r}.")
            key = check_key(p.key, "param key")
            value = check_param_value(key, p.value)
            old = known.get(key, staged.get(key))
            if old is not None and old != value:
                raise InvalidParameterError(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                    f"value '{value}'. Params cannot change: log it under another key, or start "
                    "a new run."
                )
            staged[key] = value
        known.update(staged)
        return [SetParam(run_id, k, v) for k, v in staged.items()]

    def flush(self) -> None:
        """Commit everything queued by this process for this tracking URI."""
        self._writer.flush()

    # -- reads -----------------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        """Every point of a metric, as a list-like of Metric backed by numpy arrays."""
        self.flush()
        return self._store.get_metric_history(run_id, check_key(key, "metric key"))

    def search_runs(
        self,
        experiment_ids: list[str] | str,
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Search runs with MLflow's filter grammar; returns Runs with ``.token``."""
        self.flush()
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        runs, token = self._store.search_runs(
            list(experiment_ids), filter_string=filter_string, run_view_type=run_view_type,
            max_results=_check_max_results(max_results), order_by=order_by, page_token=page_token,
        )
        return PagedList(runs, token)

    def log_inputs(self, run_id: str, datasets: list | None = None,
                   models: list[str] | None = None) -> None:
        """Record the datasets (``DatasetInput``) and logged models a run used (MLflow's log-inputs)."""
        self.flush()
        self._store.log_inputs(run_id, datasets, models)

    def get_run_inputs(self, run_id: str) -> list:
        """The dataset inputs of a run, in logging order."""
        self._store.get_run_info(run_id)
        return self._store.get_dataset_inputs([run_id]).get(run_id, [])

    def get_logged_model(self, model_id: str, allow_deleted: bool = False):
        """Return an MLflow 3 logged model (``models:/<model_id>``) by id.

        Raises:
            ResourceNotFoundError: no such model (or it is deleted and ``allow_deleted`` is False).
        """
        return self._store.get_logged_model(model_id, allow_deleted=allow_deleted)

    # -- artifacts -------------------------------------------------------------
    def _repo(self, run_id: str):
        return self._store.artifact_repository(self._store.get_run_info(run_id))

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """Copy a local file into the run's artifacts."""
        self._repo(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local folder's contents into the run's artifacts."""
        self._repo(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list:
        """List the run's artifacts one level under ``path``."""
        return self._repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        """Return a local path to an artifact (copied under ``dst_path`` if given)."""
        return self._repo(run_id).download_artifacts(path, dst_path)

    def _log_bytes(self, run_id: str, write, artifact_file: str) -> None:
        """Write an artifact through ``write(path)`` into a temp dir, then log it."""
        folder, name = os.path.split(artifact_file.replace("\\", "/"))
        if not name:
            raise InvalidParameterError(
                f"artifact_file {artifact_file!r} must end with a file name, like 'notes.txt'."
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name)
            write(path)
            self.log_artifact(run_id, path, folder or None)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save text as an artifact file."""
        if not isinstance(text, str):
            raise InvalidParameterError(f"log_text takes a string, got {type(text).__name__}.")
        self._log_bytes(run_id, lambda p: open(p, "w", encoding="utf-8").write(text), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON (or YAML for .yaml/.yml) artifact."""
        def write(path: str) -> None:
            with open(path, "w", encoding="utf-8") as f:
                if artifact_file.endswith((".yaml", ".yml")):
                    import yaml

                    # through JSON first, so numpy scalars and arrays become plain values
                    plain = json.loads(json.dumps(dictionary, default=_plain))
                    yaml.safe_dump(plain, f, sort_keys=False)
                else:
                    json.dump(dictionary, f, indent=2, default=_plain)

        self._log_bytes(run_id, write, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib (or plotly) figure as an image/HTML artifact."""
        def write(path: str) -> None:
            if hasattr(figure, "savefig"):
                figure.savefig(path, bbox_inches="tight")
            elif hasattr(figure, "write_html") and path.endswith(".html"):
                figure.write_html(path)
            elif hasattr(figure, "write_image"):
                figure.write_image(path)
            else:
                raise InvalidParameterError(
                    f"log_figure takes a matplotlib or plotly figure, got {type(figure).__name__}."
                )

        self._log_bytes(run_id, write, artifact_file)

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> None:
        """Save a numpy array (HxW, HxWx3, HxWx4; uint8 or floats in [0, 1]) or PIL image."""
        def write(path: str) -> None:
            from PIL import Image

            img = image
            if not isinstance(img, Image.Image):
                img = Image.fromarray(_image_array(image))
            img.save(path)

        self._log_bytes(run_id, write, artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a DataFrame (or dict of columns) as a JSON table artifact, as MLflow does."""
        import pandas as pd

        try:
            frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise InvalidParameterError(
                f"log_table takes a DataFrame or a dict of equal-length columns: {exc}"
            ) from None
        if not artifact_file.endswith(".json"):
            raise InvalidParameterError("log_table writes JSON: end artifact_file with '.json'.")
        payload = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
        self.log_dict(run_id, {"columns": payload["columns"], "data": payload["data"]}, artifact_file)

    # -- what the dashboard, widgets and servers read (no flush: they show what is on disk) ----
    @property
    def store_id(self) -> str | None:
        """The random id of the tracking file behind this client (None over HTTP)."""
        return getattr(self._store, "store_id", None)

    @property
    def artifact_root(self) -> str | None:
        """The local folder holding this store's artifacts (None over HTTP)."""
        return getattr(self._store, "artifact_root", None)

    def get_run_info(self, run_id: str) -> RunInfo:
        """A run's info (no data) as it is on disk; does not flush this process's queue.

        Raises:
            ResourceNotFoundError: no run has this id.
        """
        return self._store.get_run_info(run_id)

    def update_run_info(self, run_id: str, status: str | None = None,
                        end_time: int | None = None, run_name: str | None = None) -> RunInfo:
        """MLflow's ``runs/update``: set any of status, end time and name; returns the new info."""
        self.flush()
        return self._store.update_run_info(run_id, status=status, end_time=end_time,
                                           run_name=run_name)

    def count_runs(self, experiment_ids: list[str], filter_string: str | None = None,
                   run_view_type: str = "ACTIVE_ONLY") -> int:
        """How many runs of these experiments match a filter (the search grammar)."""
        return self._store.count_runs(list(experiment_ids), filter_string=filter_string,
                                      run_view_type=run_view_type)

    def count_runs_by_experiment(self) -> dict[str, int]:
        """``{experiment_id: number of active runs}`` for every experiment that has runs."""
        return self._store.count_runs_by_experiment()

    def search_runs_columns(self, experiment_ids: list[str], **kwargs: Any) -> tuple[dict, str | None]:
        """Search runs and return ``(columns, next page token)``: a dict of column lists shaped
        like ``mlflow.search_runs``' frame (same arguments as :meth:`search_runs`)."""
        return self._store.search_runs_columns(list(experiment_ids), **kwargs)

    def search_runs_frame(self, experiment_ids: list[str], **kwargs: Any):
        """Search runs and return ``(DataFrame, next page token)`` shaped like
        ``mlflow.search_runs``' result (same arguments as :meth:`search_runs`)."""
        if hasattr(self._store, "search_runs_frame"):  # the SQLite store builds it in bulk
            return self._store.search_runs_frame(list(experiment_ids), **kwargs)
        import pandas as pd

        columns, token = self._store.search_runs_columns(list(experiment_ids), **kwargs)
        return pd.DataFrame(columns), token

    def get_experiment_keys(self, experiment_ids: list[str],
                            run_view_type: str = "ACTIVE_ONLY") -> dict[str, list[str]]:
        """``{"metrics": [...], "params": [...], "tags": [...]}``: the distinct keys over the
        runs of some experiments (the searchable columns), sorted."""
        return self._store.get_experiment_keys(list(experiment_ids), run_view_type=run_view_type)

    def get_metric_keys(self, run_id: str) -> list[str]:
        """The names of the metrics a run has logged, sorted (what is on disk)."""
        return self._store.get_metric_keys(run_id)

    def read_metric_history(self, run_id: str, key: str) -> MetricHistory:
        """A metric's points as they are on disk, without flushing (for live views)."""
        return self._store.get_metric_history(run_id, key)

    def get_dataset_inputs(self, run_ids: list[str]) -> dict[str, list]:
        """``{run_id: [DatasetInput, ...]}`` for many runs at once (runs without any left out)."""
        return self._store.get_dataset_inputs(list(run_ids))

    def search_dataset_summaries(self, experiment_ids: list[str]) -> list[dict]:
        """The datasets the experiments' runs used: ``[{"experiment_id", "name", "digest",
        "context"}]`` once per input context (MLflow's ``experiments/search-datasets``)."""
        return self._store.search_dataset_summaries([str(e) for e in experiment_ids])

    def get_model_inputs(self, run_id: str) -> list[str]:
        """The ids of the logged models a run used as inputs, in logging order."""
        return self._store.get_model_inputs(run_id)

    def get_model_outputs(self, run_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
        """``{run_id: [(model_id, step), ...]}``: the logged models each run produced."""
        return self._store.get_model_outputs(list(run_ids))

    def log_model_outputs(self, run_id: str, outputs: list[tuple[str, int]]) -> None:
        """Record that a run produced logged models: ``[(model_id, step), ...]``."""
        self._store.log_model_outputs(run_id, outputs)

    def artifact_repository(self, run_id: str):
        """The artifact repository (list, download, log) of a run."""
        return self._repo(run_id)

    # -- MLflow 3 logged models ---------------------------------------------------
    def create_logged_model(self, experiment_id: str, name: str | None = None,
                            source_run_id: str | None = None, model_type: str | None = None,
                            tags: dict[str, str] | None = None,
                            params: dict[str, str] | None = None):
        """Create a PENDING logged model (``models:/m-...``) in an active experiment."""
        return self._store.create_logged_model(experiment_id, name=name,
                                               source_run_id=source_run_id, model_type=model_type,
                                               tags=tags, params=params)

    def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                             max_results: int = 100, order_by: list[dict] | None = None,
                             page_token: str | None = None,
                             datasets: list[dict] | None = None) -> PagedList:
        """Logged models of some experiments matching a filter; a list with ``.token``.

        ``datasets`` (MLflow's ``[{"dataset_name": ..., "dataset_digest": ...}]``) limits
        metric clauses to metrics on those datasets, or, without any, keeps the models
        with a metric on one of them.
        """
        extra = {"datasets": datasets} if datasets else {}
        items, token = self._store.search_logged_models(
            list(experiment_ids), filter_string=filter_string, max_results=max_results,
            order_by=order_by, page_token=page_token, **extra)
        return PagedList(items, token)

    def finalize_logged_model(self, model_id: str, status: str,
                              status_message: str | None = None):
        """Set a logged model's final status (READY or FAILED); returns the model."""
        return self._store.finalize_logged_model(model_id, status, status_message)

    def delete_logged_model(self, model_id: str) -> None:
        """Mark a logged model deleted (its files stay)."""
        self._store.delete_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        """Set (or overwrite) tags on a logged model."""
        self._store.set_logged_model_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete one tag of a logged model."""
        self._store.delete_logged_model_tag(model_id, key)

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        """Log params on a logged model (immutable once set, like a run's)."""
        self._store.log_logged_model_params(model_id, params)

    def log_logged_model_metrics(self, model_id: str, metrics: list) -> None:
        """Append metric points (``LoggedModelMetric``) to a logged model."""
        self._store.log_logged_model_metrics(model_id, metrics)

    def logged_model_at(self, location: str) -> str | None:
        """The id of the active logged model whose artifacts are at ``location``, if any."""
        return self._store.logged_model_at(location)

    # -- deployments (served models; kernelflow serve records them) ------------------
    def _deployments(self):
        if not hasattr(self._store, "record_deployment"):
            from .errors import KernelflowError

            raise KernelflowError(
                f"The tracking store at {self.tracking_uri} does not record deployments; "
                "serve models against a local SQLite tracking file (sqlite:///...)."
            )
        return self._store

    def record_deployment(self, name: str, model_uri: str | None = None, **fields: Any):
        """Record a served model, or update the given fields of a recorded one.

        Args:
            name: the deployment's name.
            model_uri: the model URI it serves (required the first time).
            **fields: any of ``model_name``, ``model_version``, ``alias``, ``url``,
                ``status`` (STARTING, RUNNING, UPDATING, FAILED, STOPPED), ``replicas``,
                ``last_error``, ``host``, ``pid``, ``ray_address``, ``config``.

        Returns:
            The recorded ``Deployment``.
        """
        return self._deployments().record_deployment(name, model_uri, **fields)

    def get_deployment(self, name: str):
        """Return the ``Deployment`` named ``name`` (ResourceNotFoundError lists the others)."""
        return self._deployments().get_deployment(name)

    def list_deployments(self) -> list:
        """Every recorded ``Deployment``, the most recently updated first."""
        return self._deployments().list_deployments()

    def delete_deployment(self, name: str) -> None:
        """Forget a recorded deployment (it does not stop a running one)."""
        self._deployments().delete_deployment(name)

    # -- LLM gateway (kernelflow gateway records keys, usage and calls) ---------------
    def _gateway(self):
        if not hasattr(self._store, "create_gateway_key"):
            from .errors import KernelflowError

            raise KernelflowError(
                f"The tracking store at {self.tracking_uri} does not hold gateway keys; "
                "run the gateway against a local SQLite tracking file (sqlite:///...)."
            )
        return self._store

    def create_gateway_key(self, name: str, budget: float | None = None, rpm: int | None = None,
                           tpm: int | None = None, routes: list[str] | None = None):
        """Create a gateway API key; only its hash is stored.

        Args:
            name: a unique name; calls and spend are recorded under it.
            budget: a spend limit in US dollars (None: none).
            rpm: requests per minute (None: no limit).
            tpm: tokens per minute (None: no limit).
            routes: the routes the key may call (None: all).

        Returns:
            A ``GatewayKey`` whose ``key`` holds the secret: it is shown this once only.
        """
        import hashlib
        import secrets

        from .validation import check_key

        check_key(name, "gateway key name")
        for what, value in (("budget", budget), ("rpm", rpm), ("tpm", tpm)):
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, (int, float)) or value <= 0):
                raise InvalidParameterError(f"A gateway key's {what} must be a positive number, "
                                            f"got {value!r}.")
        secret = "kfk-" + secrets.token_urlsafe(24)
        key = self._gateway().create_gateway_key(
            name, hashlib.sha256(secret.encode()).hexdigest(), secret[:8],
            budget=None if budget is None else float(budget), rpm=rpm, tpm=tpm,
            routes=list(routes or []))
        key.key = secret
        return key

    def verify_gateway_key(self, secret: str):
        """The ``GatewayKey`` a secret belongs to (revoked ones too), or None."""
        import hashlib

        return self._gateway().find_gateway_key(hashlib.sha256(secret.encode()).hexdigest())

    def list_gateway_keys(self, include_revoked: bool = False) -> list:
        """Gateway keys by name (without their secrets)."""
        return self._gateway().list_gateway_keys(include_revoked)

    def count_gateway_keys(self) -> int:
        """How many gateway keys are active."""
        return self._gateway().count_gateway_keys()

    def revoke_gateway_key(self, name: str) -> None:
        """Revoke a gateway key at once."""
        self._gateway().revoke_gateway_key(name)

    def add_gateway_usage(self, scope: str, minute: int, requests: int = 0,
                          tokens: int = 0) -> tuple[int, int]:
        """Count requests and tokens for a rate-limit scope in one minute; returns the totals."""
        return self._gateway().add_gateway_usage(scope, minute, requests, tokens)

    def record_gateway_calls(self, calls: list[dict]) -> None:
        """Record gateway calls (dicts of ``CALL_COLUMNS``) and add their cost to key spend."""
        self._gateway().record_gateway_calls(calls)

    def search_gateway_calls(self, since_ms: int | None = None, route: str | None = None,
                             key_name: str | None = None, max_results: int = 1000) -> list[dict]:
        """Gateway call records, newest first."""
        return self._gateway().search_gateway_calls(since_ms, route, key_name, max_results)


_last_start_ms = 0
_start_lock = threading.Lock()


def _next_start_time() -> int:
    """Now in ms, but after the previous run this process started (ties would be random)."""
    global _last_start_ms
    with _start_lock:
        now = max(int(time.time() * 1000), _last_start_ms + 1)
        _last_start_ms = now
        return now


def _mapping(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameterError(
            f"{what} must be a dict of name to value, like {{'lr': 0.1}}; got {type(value).__name__}."
        )
    return dict(value)


def _run_name(name: Any) -> str | None:
    if name is not None and not isinstance(name, str):
        raise InvalidParameterError(f"A run name must be a string, got {name!r}.")
    return name


def _tag_pair(tag: RunTag) -> tuple[str, str]:
    if not isinstance(tag, RunTag):
        raise InvalidParameterError(f"log_batch takes kernelflow.RunTag objects as tags, got {tag!r}.")
    return check_key(tag.key, "tag key"), check_tag_value(tag.key, tag.value)


def _group_points(metrics: list[Metric]) -> dict[str, list[float]]:
    """Validate metrics and group them per key as flat (timestamp, step, value) lists."""
    now = int(time.time() * 1000)
    points: dict[str, list[float]] = {}
    for m in metrics:
        if not isinstance(m, Metric):
            raise InvalidParameterError(
                f"log_batch takes kernelflow.Metric objects as metrics, got {m!r}."
            )
        key, value, step, ts = m.key, m.value, m.step, m.timestamp
        if type(key) is not str or key not in _valid_keys:
            check_key(key, "metric key")
        if type(value) is not float:
            value = check_metric_value(key, value)
        if type(step) is not int or not -MAX_EXACT_INT <= step <= MAX_EXACT_INT:
            step = check_step(step)
        buf = points.get(key)
        if buf is None:
            buf = points[key] = []
        buf += (now if ts is None else check_timestamp(ts), step, value)
    return points


def _plain(value: Any) -> Any:
    """JSON fallback: numpy scalars and arrays as Python values, anything else as text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _image_array(image: Any):
    import numpy as np

    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InvalidParameterError(
            f"log_image takes an HxW, HxWx3 or HxWx4 array; got shape {arr.shape}."
        )
    if arr.dtype.kind == "f":
        if arr.min() < 0 or arr.max() > 1:
            raise InvalidParameterError("Float images must have values in [0, 1]; scale them first.")
        arr = (arr * 255).round().astype("uint8")
    elif arr.dtype != np.uint8:
        arr = arr.astype("uint8")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return arr


def _check_max_results(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n > 100_000:
        raise InvalidParameterError(f"max_results must be between 1 and 100000, got {n!r}.")
    return n


_ADJECTIVES = ("amber", "bold", "calm", "deft", "eager", "fair", "glad", "keen", "lucid", "merry",
               "noble", "proud", "quick", "rapid", "sly", "tidy", "vivid", "wise", "zesty", "brave")
_NOUNS = ("otter", "falcon", "lynx", "heron", "panda", "tiger", "whale", "koala", "raven", "bison",
          "gecko", "moose", "crane", "shark", "finch", "puma", "hare", "yak", "wolf", "orca")


def _generate_run_name() -> str:
    import random

    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"


__all__ = ["Client", "PagedList", "RunInfo", "get_store"]
