"""The fluent API: module-level functions that act on the active run (MLflow's names)."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from typing import Any

from . import client as _client_mod
from .client import Client, PagedList, _mapping, default_client
from .entities import Experiment, Metric, MetricHistory, Param, Run, RunTag
from .errors import InvalidParameterError, KernelflowError
from .validation import check_key, check_metric_value, check_run_status, check_step, check_timestamp

_active_runs: list[ActiveRun] = []
_active_experiment_id: str | None = None
_sync_logging = os.environ.get("KERNELFLOW_SYNC_LOGGING", "").lower() in ("1", "true", "yes")


class ActiveRun(Run):
    """The run returned by :func:`start_run`; usable as a context manager.

    Leaving the ``with`` block ends the run FINISHED, or FAILED when the block
    raised (KILLED on KeyboardInterrupt).
    """

    def __init__(self, run: Run) -> None:
        super().__init__(run.info, run.data)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        if any(r.info.run_id == self.info.run_id for r in _active_runs):
            end_run(status, run_id=self.info.run_id)


# -- experiments -----------------------------------------------------------------
def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment active, creating it by name if needed."""
    global _active_experiment_id
    c = default_client()
    if experiment_id is not None:
        exp = c.get_experiment(experiment_id)
    elif experiment_name:
        found = c.get_experiment_by_name(experiment_name)
        exp = found if found is not None else c.get_experiment(c.create_experiment(experiment_name))
    elif experiment_name is not None:
        raise InvalidParameterError("The experiment name is empty: give it a name, like 'baseline'.")
    else:
        raise InvalidParameterError("set_experiment needs experiment_name or experiment_id.")
    if exp.lifecycle_stage != "active":
        raise InvalidParameterError(
            f"Experiment {exp.name!r} is deleted. Restore it with "
            f"kernelflow.restore_experiment({exp.experiment_id!r}) or choose another name."
        )
    _active_experiment_id = exp.experiment_id
    return exp


def _current_experiment_id() -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    if name := os.environ.get("KERNELFLOW_EXPERIMENT_NAME"):
        return set_experiment(name).experiment_id
    return os.environ.get("KERNELFLOW_EXPERIMENT_ID", "0")


def create_experiment(name: str, artifact_location: str | None = None, tags: dict | None = None) -> str:
    """Create an experiment; return its id."""
    return default_client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Return an experiment by id."""
    return default_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Return an experiment by name, or None."""
    return default_client().get_experiment_by_name(name)


def search_experiments(
    view_type: str = "ACTIVE_ONLY", max_results: int = 1000, filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """List experiments."""
    return list(default_client().search_experiments(view_type, max_results, filter_string, order_by))


def delete_experiment(experiment_id: str) -> None:
    """Delete an experiment (restorable)."""
    default_client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    """Restore a deleted experiment."""
    default_client().restore_experiment(experiment_id)


# -- runs ------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    *,
    capture: bool | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it active.

    In a Jupyter kernel a new run records where it comes from (notebook path,
    the cell, git state, Python and packages; see ``kernelflow.capture``);
    ``capture=False`` turns that off, ``capture=True`` forces it elsewhere.

    Raises:
        KernelflowError: if a run is already active and ``nested`` is False.
    """
    c = default_client()
    if _active_runs and not nested and _is_attached(_active_runs[-1].info.run_id):
        nested = True  # in a notebook executed by run_notebook: runs become children of its run
    if _active_runs and not nested:
        current = _active_runs[-1].info
        raise KernelflowError(
            f"Run {current.run_name!r} ({current.run_id}) is already active. End it with "
            "kernelflow.end_run(), or pass nested=True to start a child run."
        )
    if run_id is None and not _active_runs and os.environ.get("KERNELFLOW_RUN_ID"):
        run_id = os.environ["KERNELFLOW_RUN_ID"]  # as MLFLOW_RUN_ID: a project's run
    if run_id is not None:
        c._check_open(run_id)  # unknown or deleted runs are refused before anything changes
        c.update_run(run_id, status="RUNNING")
        run = c.get_run(run_id)
    else:
        parent = _active_runs[-1].info.run_id if (nested and _active_runs) else None
        all_tags = _mapping(tags, "tags")
        if description:
            all_tags["mlflow.note.content"] = description
        run = c.create_run(
            experiment_id if experiment_id is not None else _current_experiment_id(),
            tags=all_tags, run_name=run_name, parent_run_id=parent,
        )
    active = ActiveRun(run)
    _active_runs.append(active)
    if run_id is None and (capture or (capture is None and _in_jupyter_kernel())):
        _capture(active.info.run_id)
    return active


def _in_jupyter_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _capture(run_id: str) -> None:
    from .capture import capture_run

    try:
        shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
        cells = (getattr(shell, "user_ns", None) or {}).get("In") or [None]
        capture_run(run_id, cells[-1], getattr(shell, "execution_count", None), shell)
    except Exception as exc:  # capture must never stop the user's run
        logging.getLogger(__name__).warning("kernelflow could not capture the run's source: %s", exc)


def _is_attached(run_id: str) -> bool:
    notebooks = sys.modules.get("kernelflow.notebooks")
    return notebooks is not None and notebooks.attached_run_id() == run_id


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return _active_runs[-1] if _active_runs else None


def last_active_run() -> Run | None:
    """The active run, or else the run most recently ended in this process (as MLflow's)."""
    return active_run() or _last_run


_last_run: Run | None = None


def end_run(status: str = "FINISHED", run_id: str | None = None) -> None:
    """End the active run (or ``run_id`` and the runs nested in it); data is on disk on return."""
    global _last_run
    check_run_status(status)
    if not _active_runs:
        return
    index = len(_active_runs) - 1
    if run_id is not None:
        ids = [r.info.run_id for r in _active_runs]
        if run_id not in ids:
            return
        index = ids.index(run_id)
    c = default_client()
    while len(_active_runs) > index:
        run = _active_runs.pop()
        c.set_terminated(run.info.run_id, status)
        _last_run = run


def _end_runs_at_exit() -> None:
    """At interpreter exit, end runs still active FINISHED, as MLflow does."""
    while _active_runs:
        try:
            end_run()
        except Exception as exc:  # the last chance to tell someone
            print(f"kernelflow: could not end run at exit: {exc}", file=sys.stderr)
            _active_runs.pop()


# Registered after the writer's own atexit hook, so it runs before it (atexit is LIFO).
atexit.register(_end_runs_at_exit)


def _run_id() -> str:
    if _active_runs:
        return _active_runs[-1].info.run_id
    return start_run().info.run_id  # MLflow starts a run on the first log call


def get_run(run_id: str) -> Run:
    """Return a run by id."""
    return default_client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Delete a run (restorable)."""
    default_client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Restore a deleted run."""
    default_client().restore_run(run_id)


# -- logging ---------------------------------------------------------------------
def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None,
    synchronous: bool | None = None, run_id: str | None = None,
) -> None:
    """Log a metric point to the active run; returns in about a microsecond."""
    c = _client_mod._default_client or default_client()
    rid = run_id or (_active_runs[-1].info.run_id if _active_runs else _run_id())
    c.log_metric(rid, key, value, timestamp, step, synchronous or _sync_logging)


def log_metrics(
    metrics: dict[str, float], step: int | None = None, timestamp: int | None = None,
    synchronous: bool | None = None, run_id: str | None = None,
) -> None:
    """Log several metrics at one step."""
    ts = check_timestamp(timestamp) if timestamp is not None else int(time.time() * 1000)
    st = check_step(step)
    batch = [Metric(check_key(k, "metric key"), check_metric_value(k, v), ts, st)
             for k, v in _mapping(metrics, "log_metrics' argument").items()]
    _batch(run_id, metrics=batch, synchronous=synchronous)


def _batch(run_id: str | None, synchronous: bool | None = None, **items: list) -> None:
    default_client().log_batch(run_id or _run_id(), synchronous=synchronous or _sync_logging, **items)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param to the active run; the same key cannot change value."""
    _batch(None, params=[Param(key, value)], synchronous=synchronous)
    return value


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    """Log several params."""
    _batch(run_id, params=[Param(k, v) for k, v in _mapping(params, "log_params' argument").items()],
           synchronous=synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    """Set a tag on the active run."""
    _batch(None, tags=[RunTag(key, value)], synchronous=synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    """Set several tags on the active run."""
    _batch(None, tags=[RunTag(k, v) for k, v in _mapping(tags, "set_tags' argument").items()],
           synchronous=synchronous)


def delete_tag(key: str) -> None:
    """Delete a tag from the active run."""
    default_client().delete_tag(_run_id(), key)


def flush() -> None:
    """Commit everything logged so far to the tracking store."""
    from .writer import flush_all

    flush_all()
    default_client().flush()


def set_sync_logging(enabled: bool = True) -> None:
    """Make every log call durable before it returns (slower; default off)."""
    global _sync_logging
    _sync_logging = bool(enabled)


# -- artifacts -------------------------------------------------------------------
def log_artifact(local_path: str, artifact_path: str | None = None) -> None:
    """Copy a file into the active run's artifacts."""
    default_client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None) -> None:
    """Copy a folder's contents into the active run's artifacts."""
    default_client().log_artifacts(_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Save text as an artifact of the active run."""
    default_client().log_text(_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    """Save a dict as a JSON/YAML artifact of the active run."""
    default_client().log_dict(_run_id(), dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Save a matplotlib/plotly figure as an artifact of the active run."""
    default_client().log_figure(_run_id(), figure, artifact_file)


def log_image(image: Any, artifact_file: str) -> None:
    """Save a numpy array or PIL image as an artifact of the active run."""
    default_client().log_image(_run_id(), image, artifact_file)


def log_table(data: Any, artifact_file: str) -> None:
    """Save a DataFrame as a JSON table artifact of the active run."""
    default_client().log_table(_run_id(), data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact location of the active run (or a path inside it)."""
    info = default_client().get_run(_run_id()).info
    return info.artifact_uri if not artifact_path else f"{info.artifact_uri}/{artifact_path}"


# -- reads -----------------------------------------------------------------------
def get_metric_history(run_id: str, key: str) -> MetricHistory:
    """Every point of one metric of a run."""
    return default_client().get_metric_history(run_id, key)


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: str = "ACTIVE_ONLY",
    max_results: int = 100_000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
    page_token: str | None = None,
):
    """Search runs; returns a pandas DataFrame shaped like ``mlflow.search_runs``.

    Columns: run_id, experiment_id, status, artifact_uri, start_time, end_time,
    ``metrics.*``, ``params.*``, ``tags.*`` (the run name is ``tags.mlflow.runName``).
    With ``output_format="list"`` returns Run objects.
    """
    c = default_client()
    ids = _search_experiment_ids(c, experiment_ids, experiment_names, search_all_experiments)
    if output_format == "list":
        return c.search_runs(ids, filter_string, run_view_type, max_results, order_by, page_token)
    if output_format != "pandas":
        raise InvalidParameterError("output_format must be 'pandas' or 'list'.")
    c.flush()
    import pandas as pd

    kwargs = dict(filter_string=filter_string, run_view_type=run_view_type,
                  max_results=max_results, order_by=order_by, page_token=page_token)
    frame, _ = c.search_runs_frame(ids, **kwargs)
    for name in ("start_time", "end_time"):
        if not pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
    return frame


def _search_experiment_ids(c: Client, ids, names, search_all: bool) -> list[str]:
    if ids and names:
        raise InvalidParameterError("Pass experiment_ids or experiment_names, not both.")
    if names:
        out = []
        for name in names:
            exp = c.get_experiment_by_name(name)
            if exp is None:  # as MLflow: warn and search the others
                logging.getLogger(__name__).warning("No experiment named %r: not searched.", name)
            else:
                out.append(exp.experiment_id)
        return out
    if search_all:
        return [e.experiment_id for e in c.search_experiments(max_results=100_000)]
    if ids:
        return [str(i) for i in ([ids] if isinstance(ids, (str, int)) else ids)]
    return [_current_experiment_id()]


__all__ = ["ActiveRun", "PagedList"]
