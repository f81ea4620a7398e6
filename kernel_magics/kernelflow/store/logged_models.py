"""MLflow 3's "logged models": all their SQL.

A logged model is a model with its own id (``m-<hex>``), created before its files
are uploaded (status PENDING) and finalized afterwards (READY or FAILED). Its
artifacts live under its experiment's artifact location, at
``<experiment artifact location>/models/<model_id>/artifacts``; it may have tags,
params and metrics of its own, and the run that logged it records it as an output.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass, field

from ..errors import InvalidParameterError, InvalidStateError, ResourceNotFoundError
from ..paging import decode_page_token, split_page
from .base import now_ms
from .logged_model_search import (
    compile_datasets_only,
    compile_model_clause,
    compile_model_order,
    parse_model_filter,
)
from .tracking import TrackingStore

STATUSES = ("PENDING", "READY", "FAILED")
MAX_SEARCH_RESULTS = 1000
_COLUMNS = ("model_id, experiment_id, name, source_run_id, status, status_message, "
            "artifact_location, creation_timestamp, last_updated_timestamp, model_type, "
            "lifecycle_stage")


@dataclass
class LoggedModelMetric:
    """One metric point of a logged model."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass
class LoggedModel:
    """A logged model with its tags, params and metrics (MLflow's ``LoggedModel``)."""

    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    status: str
    status_message: str | None
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    model_type: str | None
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[LoggedModelMetric] = field(default_factory=list)


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidParameterError(
            f"Invalid logged model status {status!r}: use one of {', '.join(STATUSES)}."
        )
    return status


class LoggedModelStore(TrackingStore):
    """Mixin over StoreBase (and TrackingStore) with every logged-model query."""

    # -- create and read ---------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model in an active experiment.

        Raises:
            ResourceNotFoundError: for an unknown experiment.
            InvalidStateError: if the experiment is deleted.
        """
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != "active":
            raise InvalidStateError(
                f"Experiment {exp.name!r} is deleted; restore it with restore_experiment() "
                "before logging models in it."
            )
        # As MLflow, a source run id is kept as given, even one this store does not hold
        # (a run on another server, or one deleted since).
        model_id = f"m-{uuid.uuid4().hex}"
        location = os.path.join(exp.artifact_location, "models", model_id, "artifacts")
        row = (model_id, int(exp.experiment_id), name or f"model-{model_id[2:10]}",
               source_run_id or None, "PENDING", None, location, now_ms(), now_ms(),
               model_type or None, "active")

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT INTO logged_models ({_COLUMNS}) VALUES "
                         f"({', '.join('?' for _ in row)})", row)
            _put(conn, "logged_model_tags", model_id, tags)
            _insert_params(conn, model_id, params)

        self.write(txn)
        return self.get_logged_model(model_id)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return one logged model with its tags, params and metrics.

        Raises:
            ResourceNotFoundError: if no such model exists (or it is deleted and
                ``allow_deleted`` is false).
        """
        rows = self.query(
            f"SELECT {_COLUMNS} FROM logged_models WHERE model_id = ?", [model_id])
        if not rows or (rows[0][10] != "active" and not allow_deleted):
            raise ResourceNotFoundError(
                f"Logged model with ID '{model_id}' not found. List them with "
                "search_logged_models()."
            )
        return self._logged_models_from_rows(rows)[0]

    def _logged_models_from_rows(self, rows: list[tuple]) -> list[LoggedModel]:
        models = [LoggedModel(r[0], str(r[1]), *r[2:]) for r in rows]
        by_id = {m.model_id: m for m in models}
        if not by_id:
            return models
        marks = ", ".join("?" for _ in by_id)
        ids = list(by_id)
        for table, attr in (("logged_model_tags", "tags"), ("logged_model_params", "params")):
            for mid, k, v in self.query(
                    f"SELECT model_id, key, value FROM {table} WHERE model_id IN ({marks})", ids):
                getattr(by_id[mid], attr)[k] = v
        for mid, *point in self.query(
                "SELECT model_id, key, value, timestamp, step, run_uuid, dataset_name, "
                f"dataset_digest FROM logged_model_metrics WHERE model_id IN ({marks}) "
                "ORDER BY rowid", ids):
            by_id[mid].metrics.append(LoggedModelMetric(*point))
        return models

    def search_logged_models(
        self,
        experiment_ids: list,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[dict] | None = None,
        page_token: str | None = None,
        datasets: list[dict] | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        """Active logged models of some experiments matching a filter, one page at a time.

        Args:
            experiment_ids: the experiments to search (at least one).
            filter_string: MLflow's logged-model filter, e.g. ``name = 'model'``.
            max_results: page size (1 to 1000).
            order_by: MLflow's ``[{"field_name": ..., "ascending": ...}]``; newest first by default.
            page_token: the token of the previous page.
            datasets: MLflow's ``[{"dataset_name": ..., "dataset_digest": ...}]``: metric
                clauses see only metrics on these datasets; without metric clauses, only
                models with a metric on one of them match.

        Returns:
            The page of models and the next page's token (``None`` on the last page).
        """
        if not experiment_ids:
            raise InvalidParameterError("search_logged_models needs at least one experiment id.")
        if not 1 <= max_results <= MAX_SEARCH_RESULTS:
            raise InvalidParameterError(
                f"Invalid max_results {max_results}: it must be between 1 and {MAX_SEARCH_RESULTS}."
            )
        params: list = [int(self.get_experiment(e).experiment_id)
                        for e in experiment_ids]
        where = [f"m.experiment_id IN ({', '.join('?' for _ in params)})",
                 "m.lifecycle_stage = 'active'"]
        clauses = parse_model_filter(filter_string)
        where += [compile_model_clause(c, params, datasets) for c in clauses]
        only = None if any(c.kind == "metric" for c in clauses) else \
            compile_datasets_only(datasets, params)
        if only:
            where.append(only)
        order, order_params = compile_model_order(order_by)
        offset = decode_page_token(page_token)
        rows = self.query(
            f"SELECT {', '.join('m.' + c for c in _COLUMNS.split(', '))} FROM logged_models m "
            f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, *order_params, max_results + 1, offset],
        )
        rows, token = split_page(rows, offset, max_results)
        return self._logged_models_from_rows(rows), token

    def logged_model_at(self, location: str) -> str | None:
        """The id of the active logged model whose artifacts are at ``location``, if any."""
        rows = self.query(
            "SELECT model_id FROM logged_models WHERE artifact_location = ? "
            "AND lifecycle_stage = 'active'", [os.path.normpath(location)])
        return rows[0][0] if rows else None

    # -- update --------------------------------------------------------------------
    def _update(self, model_id: str, fn) -> None:
        """Run ``fn(conn)`` in a transaction on an active model and touch its update time."""
        self.get_logged_model(model_id)

        def txn(conn: sqlite3.Connection) -> None:
            fn(conn)
            conn.execute("UPDATE logged_models SET last_updated_timestamp = ? WHERE model_id = ?",
                         [now_ms(), model_id])

        self.write(txn)

    def finalize_logged_model(self, model_id: str, status: str,
                              status_message: str | None = None) -> LoggedModel:
        """Set a model's final status (READY once its files are uploaded, or FAILED)."""
        _check_status(status)
        self._update(model_id, lambda conn: conn.execute(
            "UPDATE logged_models SET status = ?, status_message = ? WHERE model_id = ?",
            [status, status_message, model_id]))
        return self.get_logged_model(model_id)

    def delete_logged_model(self, model_id: str) -> None:
        """Mark a logged model deleted (its files stay; ``allow_deleted`` still finds it)."""
        self._update(model_id, lambda conn: conn.execute(
            "UPDATE logged_models SET lifecycle_stage = 'deleted' WHERE model_id = ?", [model_id]))

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        """Set (or overwrite) tags on a logged model."""
        self._update(model_id, lambda conn: _put(conn, "logged_model_tags", model_id, tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete one tag of a logged model.

        Raises:
            ResourceNotFoundError: if the model has no such tag.
        """
        if key not in self.get_logged_model(model_id).tags:
            raise ResourceNotFoundError(
                f"No tag with key '{key}' found for model with ID '{model_id}': the logged model "
                "has no tag of that name.")
        self._update(model_id, lambda conn: conn.execute(
            "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", [model_id, key]))

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        """Log params on a logged model; like a run's params they cannot change once set."""
        self._update(model_id, lambda conn: _insert_params(conn, model_id, params))

    def log_logged_model_metrics(self, model_id: str, metrics: list[LoggedModelMetric]) -> None:
        """Append metric points to a logged model."""
        self._update(model_id, lambda conn: conn.executemany(
            "INSERT INTO logged_model_metrics (model_id, key, value, timestamp, step, run_uuid, "
            "dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(model_id, m.key, m.value, m.timestamp, m.step, m.run_id, m.dataset_name,
              m.dataset_digest) for m in metrics]))

    # -- run outputs -------------------------------------------------------------------
    def log_model_outputs(self, run_id: str, outputs: list[tuple[str, int]]) -> None:
        """Record that a run produced models: ``[(model_id, step), ...]``."""
        self.get_run_info(run_id)
        for model_id, _ in outputs:
            self.get_logged_model(model_id)
        self.write(lambda conn: conn.executemany(
            "INSERT OR REPLACE INTO logged_model_outputs (run_uuid, model_id, step) "
            "VALUES (?, ?, ?)", [(run_id, mid, int(step)) for mid, step in outputs]))

    def model_outputs(self, run_id: str) -> list[tuple[str, int]]:
        """The models a run produced, as ``[(model_id, step), ...]`` in logging order."""
        return [(m, s) for m, s in self.query(
            "SELECT model_id, step FROM logged_model_outputs WHERE run_uuid = ? ORDER BY rowid",
            [run_id])]


def _put(conn: sqlite3.Connection, table: str, model_id: str, items: dict | None) -> None:
    conn.executemany(f"INSERT OR REPLACE INTO {table} (model_id, key, value) VALUES (?, ?, ?)",
                     [(model_id, str(k), str(v)) for k, v in (items or {}).items()])


def _insert_params(conn: sqlite3.Connection, model_id: str, params: dict | None) -> None:
    for key, value in (params or {}).items():
        row = conn.execute("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
                           [model_id, str(key)]).fetchone()
        if row and row[0] != str(value):
            raise InvalidParameterError(
                f"Param {key!r} of logged model {model_id!r} is already {row[0]!r}; params "
                f"cannot change (got {str(value)!r}). Create a new logged model instead."
            )
    _put(conn, "logged_model_params", model_id, params)
