"""Experiments, runs, params, tags and metrics: all their SQL."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from array import array
from collections.abc import Iterable

import numpy as np

from ..entities import Experiment, Metric, MetricHistory, Run, RunData, RunInfo
from ..errors import (
    InvalidParameterError,
    InvalidStateError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from ..ops import DeleteTag, Op, SetParam, SetStatus, SetTag
from ..paging import decode_page_token, encode_page_token, split_page  # noqa: F401 (re-exported)
from ..search import parse_filter, parse_order_by
from ..validation import check_run_status
from .base import StoreBase, now_ms
from .experiment_search import (
    compile_experiment_order,
    compile_experiment_where,
    parse_experiment_filter,
    parse_experiment_order_by,
)
from .schema import RUN_SUMMARY_SQL
from .search_sql import compile_order, compile_where

ACTIVE, DELETED = "active", "deleted"
VIEW_TYPES = {"ACTIVE_ONLY": ACTIVE, "DELETED_ONLY": DELETED, "ALL": None}

_RUN_COLUMNS = (
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
    "artifact_uri, lifecycle_stage"
)


def _placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def _experiment_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Experiment id {value!r} is not valid: ids are whole numbers given as strings, "
            "like '0' or '12'. Use get_experiment_by_name() to look one up by name."
        ) from None


class TrackingStore(StoreBase):
    """Every tracking query: experiments, runs, params, tags, metrics."""

    # -- experiments ---------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict | None = None
    ) -> str:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError("Experiment name must be a non-empty string.")

        def txn(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?", [name]
            ).fetchone()
            if row:
                hint = (
                    " It is deleted: restore it with restore_experiment() or pick another name."
                    if row[1] == DELETED
                    else " Use set_experiment() to make it active, or pick another name."
                )
                raise ResourceExistsError(
                    f"Experiment(name={name}) already exists: experiment {name!r} has id "
                    f"{row[0]}.{hint}")
            t = now_ms()
            cur = conn.execute(
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
                " last_update_time) VALUES (?, ?, 'active', ?, ?)",
                [name, artifact_location, t, t],
            )
            exp_id = cur.lastrowid
            if not artifact_location:
                location = os.path.join(self.artifact_root, str(exp_id))
                conn.execute(
                    "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                    [location, exp_id],
                )
            for k, v in (tags or {}).items():
                conn.execute(
                    "INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)", [exp_id, k, str(v)]
                )
            return str(exp_id)

        return self.write(txn)

    def _experiment_from_row(self, row) -> Experiment:
        exp_id, name, location, stage, created, updated = row
        tags = dict(
            self.query("SELECT key, value FROM experiment_tags WHERE experiment_id = ?", [exp_id])
        )
        if location is None:
            location = os.path.join(self.artifact_root, str(exp_id))
        return Experiment(str(exp_id), name, location, stage, tags, created, updated)

    _EXP_COLUMNS = (
        "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
    )

    def get_experiment(self, experiment_id) -> Experiment:
        rows = self.query(
            f"SELECT {self._EXP_COLUMNS} FROM experiments WHERE experiment_id = ?",
            [_experiment_id(experiment_id)],
        )
        if not rows:
            raise ResourceNotFoundError(
                f"No Experiment with id={experiment_id} exists. "
                "List them with search_experiments() or create one with create_experiment()."
            )
        return self._experiment_from_row(rows[0])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        rows = self.query(f"SELECT {self._EXP_COLUMNS} FROM experiments WHERE name = ?", [name])
        return self._experiment_from_row(rows[0]) if rows else None

    def search_experiments(
        self,
        view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[Experiment], str | None]:
        """Experiments matching MLflow's experiment filter, in MLflow's order (newest first)."""
        where, params = compile_experiment_where(parse_experiment_filter(filter_string),
                                                 _view(view_type))
        order = compile_experiment_order(parse_experiment_order_by(order_by))
        offset = decode_page_token(page_token)
        rows = self.query(
            f"SELECT {self._EXP_COLUMNS} FROM experiments e WHERE {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, max_results + 1, offset],
        )
        rows, token = split_page(rows, offset, max_results)
        return [self._experiment_from_row(r) for r in rows], token

    def _set_experiment_stage(self, experiment_id, stage: str) -> None:
        exp = self.get_experiment(experiment_id)

        def txn(conn: sqlite3.Connection) -> None:
            t = now_ms()
            conn.execute(
                "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                "WHERE experiment_id = ?",
                [stage, t, int(exp.experiment_id)],
            )
            conn.execute(
                "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?",
                [stage, t if stage == DELETED else None, int(exp.experiment_id)],
            )

        self.write(txn)

    def delete_experiment(self, experiment_id) -> None:
        if str(experiment_id) == "0":
            raise InvalidParameterError("The Default experiment (id 0) cannot be deleted.")
        self._set_experiment_stage(experiment_id, DELETED)

    def restore_experiment(self, experiment_id) -> None:
        self._set_experiment_stage(experiment_id, ACTIVE)

    def rename_experiment(self, experiment_id, new_name: str) -> None:
        exp = self.get_experiment(experiment_id)
        if not isinstance(new_name, str) or not new_name.strip():
            raise InvalidParameterError("The new experiment name must be a non-empty string.")

        def txn(conn: sqlite3.Connection) -> None:
            clash = conn.execute(
                "SELECT experiment_id FROM experiments WHERE name = ? AND experiment_id != ?",
                [new_name, int(exp.experiment_id)],
            ).fetchone()
            if clash:
                raise ResourceExistsError(
                    f"Experiment {new_name!r} already exists (id {clash[0]}); pick another name."
                )
            conn.execute(
                "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                [new_name, now_ms(), int(exp.experiment_id)],
            )

        self.write(txn)

    def set_experiment_tag(self, experiment_id, key: str, value: str) -> None:
        exp = self.get_experiment(experiment_id)
        self.write(
            lambda conn: conn.execute(
                "INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)",
                [int(exp.experiment_id), key, str(value)],
            )
        )

    def count_runs_by_experiment(self) -> dict[str, int]:
        rows = self.query(
            "SELECT experiment_id, count(*) FROM runs WHERE lifecycle_stage = 'active' "
            "GROUP BY experiment_id"
        )
        return {str(e): n for e, n in rows}

    # -- runs ----------------------------------------------------------------
    def create_run(
        self,
        experiment_id,
        user_id: str,
        start_time: int | None,
        run_name: str,
        tags: dict[str, str] | None = None,
        parent_run_id: str | None = None,
        source_notebook: str | None = None,
    ) -> Run:
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != ACTIVE:
            raise InvalidStateError(
                f"Experiment {exp.name!r} is deleted; restore it with restore_experiment() "
                "before starting runs in it."
            )
        run_id = uuid.uuid4().hex
        start = start_time if start_time is not None else now_ms()
        artifact_uri = os.path.join(exp.artifact_location, run_id, "artifacts")
        all_tags = dict(tags or {})
        all_tags["mlflow.runName"] = run_name
        all_tags.setdefault("mlflow.user", user_id)
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
                "end_time, lifecycle_stage, artifact_uri, parent_run_id, source_notebook) "
                "VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?, ?, ?)",
                [run_id, int(exp.experiment_id), run_name, user_id, start, artifact_uri,
                 parent_run_id, source_notebook],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
                [(run_id, k, str(v)) for k, v in all_tags.items()],
            )
            _refresh_summaries(conn, [run_id])

        # No fsync of its own: the run becomes durable with its first logged batch or
        # end_run (a FULL commit syncs the WAL up to there), which saves one sync per run.
        self.write(txn, durable=False)
        info = RunInfo(run_id, exp.experiment_id, run_name, user_id, "RUNNING", start, None,
                       artifact_uri, ACTIVE)
        return Run(info, RunData({}, {}, all_tags))

    def _run_rows(self, run_ids: list[str]) -> list[tuple]:
        return self.query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_uuid IN ({_placeholders(len(run_ids))})",
            run_ids,
        )

    def get_run_info(self, run_id: str) -> RunInfo:
        rows = self._run_rows([run_id]) if isinstance(run_id, str) else []
        if not rows:
            raise ResourceNotFoundError(
                f"Run '{run_id}' not found (Run with id={run_id} not found). No run with id "
                f"{run_id!r}: run ids are 32 hex characters; find one with search_runs()."
            )
        return _info(rows[0])

    def get_run(self, run_id: str) -> Run:
        info = self.get_run_info(run_id)
        data = self._run_data([run_id])[run_id]
        return Run(info, data)

    def _run_data(self, run_ids: list[str]) -> dict[str, RunData]:
        out = {rid: RunData({}, {}, {}) for rid in run_ids}
        for chunk_start in range(0, len(run_ids), 900):
            ids = run_ids[chunk_start:chunk_start + 900]
            marks = _placeholders(len(ids))
            for rid, k, v, is_nan, ts, step in self.query(
                "SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics "
                f"WHERE run_uuid IN ({marks})",
                ids,
            ):
                value = math.nan if is_nan else v
                out[rid].metrics[k] = value
                out[rid].latest_metrics[k] = Metric(k, value, ts, step)
            for rid, k, v in self.query(
                f"SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks})", ids
            ):
                out[rid].params[k] = v
            for rid, k, v in self.query(
                f"SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks})", ids
            ):
                out[rid].tags[k] = v
        return out

    def update_run_info(
        self, run_id: str, status: str | None = None, end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        info = self.get_run_info(run_id)
        if status is not None:
            check_run_status(status)

        def txn(conn: sqlite3.Connection) -> None:
            if status is not None:
                conn.execute(
                    "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                    [status, end_time, run_id],
                )
            if run_name is not None:
                conn.execute("UPDATE runs SET name = ? WHERE run_uuid = ?", [run_name, run_id])
                conn.execute(
                    "INSERT OR REPLACE INTO tags VALUES (?, 'mlflow.runName', ?)", [run_id, run_name]
                )
                _refresh_summaries(conn, [run_id])

        self.write(txn)
        return self.get_run_info(run_id) if (status or run_name) else info

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        self.get_run_info(run_id)
        self.write(
            lambda conn: conn.execute(
                "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?",
                [stage, now_ms() if stage == DELETED else None, run_id],
            )
        )

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, ACTIVE)

    def get_params(self, run_id: str) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM params WHERE run_uuid = ?", [run_id]))

    # -- batched writes (the background writer calls this) ---------------------
    def write_batch(
        self,
        ops: list[Op],
        metrics: dict[tuple[str, str], array],
    ) -> list[str]:
        """Commit ordered param/tag/status commands and metric buffers in one transaction.

        ``ops``: :mod:`kernelflow.ops` commands (SetParam, SetTag, DeleteTag, SetStatus).
        ``metrics`` maps (run, key) to a flat float64 array of
        (timestamp, step, value) triples. Returns conflict messages for params
        that another process logged with a different value (those are skipped).
        """

        def txn(conn: sqlite3.Connection) -> list[str]:
            conflicts = self._apply_ops(conn, ops)
            self._insert_metrics(conn, metrics)
            touched = {op.run_id for op in ops if not isinstance(op, SetStatus)}
            touched |= {run for run, _ in metrics}
            _refresh_summaries(conn, sorted(touched))
            return conflicts

        return self.write(txn)

    @staticmethod
    def _apply_ops(conn: sqlite3.Connection, ops: Iterable[Op]) -> list[str]:
        conflicts = []
        for op in ops:
            if isinstance(op, SetParam):
                run_id, key, value = op
                cur = conn.execute(
                    "INSERT INTO params VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [run_id, key, value],
                )
                if cur.rowcount == 0:
                    old = conn.execute(
                        "SELECT value FROM params WHERE run_uuid = ? AND key = ?", [run_id, key]
                    ).fetchone()
                    if old and old[0] != value:
                        conflicts.append(
                            f"param {key!r} of run {run_id} is already {old[0]!r}; "
                            f"{value!r} was not logged (params cannot change)"
                        )
            elif isinstance(op, SetTag):
                conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)", list(op))
                if op.key == "mlflow.runName":
                    conn.execute("UPDATE runs SET name = ? WHERE run_uuid = ?",
                                 [op.value, op.run_id])
            elif isinstance(op, DeleteTag):
                conn.execute("DELETE FROM tags WHERE run_uuid = ? AND key = ?", list(op))
            elif isinstance(op, SetStatus):
                conn.execute(
                    "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                    [op.status, op.end_time, op.run_id],
                )
        return conflicts

    @staticmethod
    def _insert_metrics(conn: sqlite3.Connection, metrics: dict[tuple[str, str], array]) -> None:
        chunks, latest = [], []
        for (run_id, key), buf in metrics.items():
            points = np.frombuffer(buf, dtype=np.float64).reshape(-1, 3)
            if not len(points):
                continue
            chunks.append((run_id, key, len(points), points.tobytes()))
            # MLflow's latest value: the point with the largest (step, timestamp).
            best = np.lexsort((points[:, 0], points[:, 1]))[-1]
            ts, step, value = points[best]
            nan = math.isnan(value)
            latest.append((run_id, key, None if nan else float(value), int(ts), int(step), int(nan)))
        conn.executemany(
            "INSERT INTO metric_chunks (run_uuid, key, n, data) VALUES (?, ?, ?, ?)", chunks
        )
        conn.executemany(
            "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET "
            "value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, "
            "is_nan = excluded.is_nan WHERE excluded.step > latest_metrics.step OR "
            "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
            latest,
        )

    # -- metric reads ----------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        self.get_run_info(run_id)
        blobs = self.query(
            "SELECT data FROM metric_chunks WHERE run_uuid = ? AND key = ? ORDER BY id",
            [run_id, key],
        )
        if blobs:
            data = np.frombuffer(b"".join(b for (b,) in blobs), dtype=np.float64).reshape(-1, 3)
        else:
            data = np.empty((0, 3))
        return MetricHistory(
            key, data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), data[:, 2]
        )

    def get_experiment_keys(
        self, experiment_ids: list, run_view_type: str = "ACTIVE_ONLY"
    ) -> dict[str, list[str]]:
        """Distinct metric, param and tag keys over the runs of some experiments, sorted."""
        exp_ids = [_experiment_id(e) for e in experiment_ids]
        where, params = compile_where([], exp_ids, _view(run_view_type))
        runs = f"SELECT r.run_uuid FROM runs r WHERE {where}"
        return {
            kind: [k for (k,) in self.query(
                f"SELECT DISTINCT key FROM {table} WHERE run_uuid IN ({runs}) ORDER BY key", params
            )]
            for kind, table in (("metrics", "latest_metrics"), ("params", "params"), ("tags", "tags"))
        }

    def get_metric_keys(self, run_id: str) -> list[str]:
        return [k for (k,) in self.query(
            "SELECT key FROM latest_metrics WHERE run_uuid = ? ORDER BY key", [run_id]
        )]

    def artifact_repository(self, info: RunInfo):
        """The artifact repository of a local run."""
        from ..artifacts import LocalArtifactRepository

        return LocalArtifactRepository(info.artifact_uri)

    # -- search --------------------------------------------------------------
    def search_run_ids(
        self,
        experiment_ids: list,
        filter_string: str | None = None,
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        _columns: str | None = None,
    ) -> tuple[list[tuple], str | None]:
        """Return (run rows, next page token); paging, filter and sort all run in SQL."""
        clauses = parse_filter(filter_string)
        order = parse_order_by(order_by)
        exp_ids = [_experiment_id(e) for e in experiment_ids]
        where, params = compile_where(clauses, exp_ids, _view(run_view_type))
        joins, order_sql, join_params = compile_order(order)
        offset = decode_page_token(page_token)
        columns = _columns or ", ".join("r." + c for c in _RUN_COLUMNS.split(", "))
        sql = (
            f"SELECT {columns} FROM runs r {joins} "
            f"WHERE {where} ORDER BY {order_sql} LIMIT ? OFFSET ?"
        )
        rows = self.query(sql, [*join_params, *params, max_results + 1, offset])
        return split_page(rows, offset, max_results)

    def count_runs(
        self, experiment_ids: list, filter_string: str | None = None,
        run_view_type: str = "ACTIVE_ONLY",
    ) -> int:
        """Count the runs a search would return (for paging in the UI)."""
        exp_ids = [_experiment_id(e) for e in experiment_ids]
        where, params = compile_where(parse_filter(filter_string), exp_ids, _view(run_view_type))
        return self.query(f"SELECT count(*) FROM runs r WHERE {where}", params)[0][0]

    def search_runs(self, experiment_ids: list, **kwargs) -> tuple[list[Run], str | None]:
        rows, token = self.search_run_ids(experiment_ids, **kwargs)
        data = self._run_data([r[0] for r in rows])
        return [Run(_info(r), data[r[0]]) for r in rows], token

    def search_runs_columns(self, experiment_ids: list, **kwargs) -> tuple[dict, str | None]:
        """Search and return column lists (times in ms) like ``mlflow.search_runs``' columns."""
        rows, token = self.search_run_ids(experiment_ids, _columns=_FRAME_COLUMNS, **kwargs)
        n = len(rows)
        cols: dict[str, list] = {
            name: [r[i] for r in rows]
            for i, name in enumerate(
                ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")
            )
        }
        cols["experiment_id"] = [str(e) for e in cols["experiment_id"]]
        for i, row in enumerate(rows):
            for key, value in json.loads(row[6] or "{}").items():
                col = cols.get(key)
                if col is None:
                    col = cols[key] = [None] * n
                col[i] = value
        for key in cols:
            if key.startswith("metrics."):
                cols[key] = [math.nan if v is None else float(v) for v in cols[key]]
        return cols, token

    def search_runs_frame(self, experiment_ids: list, **kwargs):
        """Search and return a pandas DataFrame shaped like ``mlflow.search_runs``' result.

        Columns: run_id, experiment_id, status, artifact_uri, start_time,
        end_time, then ``metrics.*``, ``params.*`` and ``tags.*`` sorted by name.
        Each run's values come from its JSON summary column: one read per run.
        """
        import pandas as pd

        rows, token = self.search_run_ids(experiment_ids, _columns=_FRAME_COLUMNS, **kwargs)
        attrs = list(zip(*rows, strict=True)) if rows else [()] * 7
        frame = pd.DataFrame({
            "run_id": attrs[0],
            "experiment_id": [str(e) for e in attrs[1]],
            "status": attrs[2],
            "artifact_uri": attrs[3],
            "start_time": pd.to_datetime(pd.Series(attrs[4], dtype="float64"), unit="ms", utc=True),
            "end_time": pd.to_datetime(pd.Series(attrs[5], dtype="float64"), unit="ms", utc=True),
        })
        records = json.loads("[" + ",".join(s or "{}" for s in attrs[6]) + "]")
        values = pd.DataFrame.from_records(records, index=frame.index) if records else None
        if values is not None and len(values.columns):
            for col in values.columns:  # infinities arrive as the strings "Infinity"/"-Infinity"
                if col.startswith("metrics.") and values[col].dtype == object:
                    values[col] = values[col].astype(float)
            frame = pd.concat([frame, values[sorted(values.columns)]], axis=1)
        return frame, token


_FRAME_COLUMNS = (
    "r.run_uuid, r.experiment_id, r.status, r.artifact_uri, r.start_time, r.end_time, r.summary"
)


def _refresh_summaries(conn: sqlite3.Connection, run_ids: list[str]) -> None:
    """Recompute the JSON summary of each run (same transaction as the write)."""
    for start in range(0, len(run_ids), 500):
        part = run_ids[start:start + 500]
        conn.execute(f"{RUN_SUMMARY_SQL} WHERE run_uuid IN ({_placeholders(len(part))})", part)


def _view(view_type: str) -> str | None:
    key = str(view_type).upper()
    if key not in VIEW_TYPES:
        raise InvalidParameterError(
            f"run_view_type {view_type!r} is not valid; use ACTIVE_ONLY, DELETED_ONLY or ALL."
        )
    return VIEW_TYPES[key]


def _info(row: tuple) -> RunInfo:
    run_id, exp_id, name, user, status, start, end, artifact_uri, stage = row
    return RunInfo(run_id, str(exp_id), name or "", user or "", status, start, end,
                   artifact_uri, stage)

