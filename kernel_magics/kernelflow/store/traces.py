"""Traces, spans and assessments: their tables and all their SQL (MLflow 3's model).

A trace arrives as a *record* (a plain dict, see
:func:`kernelflow.tracing.export.trace_record`) from the async writer, from the
REST API or from OTLP. A record whose root is local (``is_root``) owns the
trace's info; a record that continues a trace begun in another process only
adds its spans, tags and token counts, and fills in the info if the owner has
not written it yet. Spans are keyed by (trace id, span id), so writing the same
record twice changes nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from itertools import chain
from typing import Any

import sqlite_utils

from ..errors import InvalidParameterError, ResourceNotFoundError
from ..paging import decode_page_token, split_page
from ..tracing.entities import Assessment, Span, Trace, TraceData, TraceInfo
from .base import StoreBase, now_ms
from .trace_filter import (
    compile_trace_clause,
    compile_trace_order,
    parse_trace_filter,
    parse_trace_order,
)

SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "span_type", "start_time_ns",
                "end_time_ns", "status_code", "status_message", "inputs", "outputs",
                "attributes", "events")
_INFO_COLUMNS = ("trace_id, experiment_id, request_time, execution_time, state, request_preview, "
                 "response_preview, name, run_id, client_request_id, input_tokens, "
                 "output_tokens, total_tokens, cost")
ASSESSMENT_KINDS = ("feedback", "expectation")
_ASSESSMENT_COLUMNS = ("assessment_id, trace_id, name, kind, value, rationale, source_type, "
                       "source_id, error, span_id, metadata, run_id, valid, overrides, "
                       "create_time, last_update_time")


def create_tables(db: sqlite_utils.Database) -> None:
    """Migration 8: MLflow 3's traces, spans and assessments (replacing v3's unused tables)."""
    for old in ("spans", "traces"):
        if old in db.table_names():
            db.table(old).drop()
    db.table("traces").create(
        {"trace_id": str, "experiment_id": int, "request_time": int, "execution_time": int,
         "state": str, "request_preview": str, "response_preview": str, "name": str,
         "run_id": str, "client_request_id": str, "input_tokens": int, "output_tokens": int,
         "total_tokens": int, "cost": float},
        pk="trace_id", not_null={"experiment_id", "request_time", "state"},
    )
    db.table("traces").create_index(["experiment_id", "request_time"])
    db.table("traces").create_index(["run_id"])
    for table in ("trace_tags", "trace_metadata"):
        db.table(table).create({"trace_id": str, "key": str, "value": str}, pk=("trace_id", "key"))
        db.table(table).create_index(["key", "value"])
    db.table("spans").create(
        {"trace_id": str, "span_id": str, "parent_span_id": str, "name": str, "span_type": str,
         "start_time_ns": int, "end_time_ns": int, "status_code": str, "status_message": str,
         "inputs": str, "outputs": str, "attributes": str, "events": str},
        pk=("trace_id", "span_id"),
    )
    db.table("assessments").create(
        {"assessment_id": str, "trace_id": str, "name": str, "kind": str, "value": str,
         "rationale": str, "source_type": str, "source_id": str, "error": str, "span_id": str,
         "metadata": str, "run_id": str, "valid": int, "overrides": str, "create_time": int,
         "last_update_time": int},
        pk="assessment_id", not_null={"trace_id", "name", "kind"},
    )
    db.table("assessments").create_index(["trace_id"])
    db.table("assessments").create_index(["name"])


def _record(item: Any) -> dict:
    return item.to_record() if hasattr(item, "to_record") else item


def _tokens(meta: dict) -> tuple:
    usage = meta.get("mlflow.trace.tokenUsage")
    cost = meta.get("mlflow.trace.cost")
    u = json.loads(usage) if isinstance(usage, str) else (usage or {})
    c = json.loads(cost) if isinstance(cost, str) else (cost or {})
    return u.get("input_tokens"), u.get("output_tokens"), u.get("total_tokens"), c.get("total_cost")


_UPSERT_ROOT = f"""
INSERT INTO traces ({_INFO_COLUMNS}) VALUES ({', '.join('?' * 14)})
ON CONFLICT(trace_id) DO UPDATE SET
  experiment_id = excluded.experiment_id, request_time = excluded.request_time,
  execution_time = excluded.execution_time, state = excluded.state,
  request_preview = excluded.request_preview, response_preview = excluded.response_preview,
  name = excluded.name, run_id = coalesce(excluded.run_id, traces.run_id),
  client_request_id = coalesce(excluded.client_request_id, traces.client_request_id),
  input_tokens = {{add}}(input_tokens), output_tokens = {{add}}(output_tokens),
  total_tokens = {{add}}(total_tokens), cost = {{add}}(cost)
"""
_UPSERT_PART = f"""
INSERT INTO traces ({_INFO_COLUMNS}) VALUES ({', '.join('?' * 14)})
ON CONFLICT(trace_id) DO UPDATE SET
  input_tokens = {{add}}(input_tokens), output_tokens = {{add}}(output_tokens),
  total_tokens = {{add}}(total_tokens), cost = {{add}}(cost)
"""


def _additive(sql: str) -> str:
    # Token counts and cost of a trace made in several processes add up.
    import re

    return re.sub(r"\{add\}\((\w+)\)",
                  lambda m: (f"CASE WHEN excluded.{m[1]} IS NULL THEN traces.{m[1]} ELSE "
                             f"coalesce(traces.{m[1]}, 0) + excluded.{m[1]} END"), sql)


UPSERT_ROOT, UPSERT_PART = _additive(_UPSERT_ROOT), _additive(_UPSERT_PART)


def _info_row(rec: dict) -> tuple:
    meta = rec.get("metadata") or {}
    return (rec["trace_id"], int(rec.get("experiment_id") or 0), int(rec["request_time"]),
            rec.get("execution_time"), rec.get("state") or "OK", rec.get("request_preview"),
            rec.get("response_preview"), rec.get("name"), rec.get("run_id"),
            meta.get("mlflow.clientRequestId") or rec.get("client_request_id"),
            *(_tokens(meta) if rec.get("count_tokens", True) else (None, None, None, None)))


_INSERT_SPANS = (f"INSERT OR REPLACE INTO spans ({', '.join(SPAN_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(SPAN_COLUMNS))})")
_VALUES = re.compile(r"VALUES (\((?:\?, )*\?\))")
_CHUNK_PARAMS = 30_000  # at most SQLite's limit of bound parameters (32,766 by default)
_MULTI_SQL: dict[tuple[str, int], str] = {}


def _insert_many(conn: sqlite3.Connection, sql: str, rows: list[tuple]) -> None:
    """``executemany(sql, rows)``, as few statements of many rows each.

    The sqlite3 module gives up the GIL around every statement's step, and while traced
    code keeps the GIL busy each step then waits out a whole switch interval (5 ms) to
    get it back: executemany of 100,000 spans took 4 s beside a busy thread instead of
    0.3 s. A statement of a thousand rows steps once, so the writer's SQL runs beside
    the traced code instead of queueing behind it.
    """
    match = _VALUES.search(sql)
    if len(rows) < 8 or match is None:
        if rows:
            conn.executemany(sql, rows)
        return
    width = match[1].count("?")
    limit = (conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # Python >= 3.11
             if hasattr(conn, "getlimit") else 999)
    per = max(1, min(_CHUNK_PARAMS, limit) // width)
    for i in range(0, len(rows), per):
        chunk = rows[i:i + per]
        key = (sql, len(chunk))
        statement = _MULTI_SQL.get(key)
        if statement is None:
            statement = (f"{sql[:match.start()]}VALUES {', '.join([match[1]] * len(chunk))}"
                         f"{sql[match.end():]}")
            if len(_MULTI_SQL) > 64:
                _MULTI_SQL.clear()
            _MULTI_SQL[key] = statement
        conn.execute(statement, list(chain.from_iterable(chunk)))


def _uncount_resent(conn: sqlite3.Connection, resent: list[tuple]) -> None:
    """Leave out the tokens of records whose spans are all stored already.

    Token counts add up over the records of a trace (its parts can come from several
    processes), so an exporter's retry of a batch it had sent would count them twice.
    """
    ids = list({r[2] for r in resent})
    stored: dict[str, set[str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for trace_id, span_id in conn.execute(
                f"SELECT trace_id, span_id FROM spans WHERE trace_id IN "
                f"({', '.join('?' * len(chunk))})", chunk):
            stored.setdefault(trace_id, set()).add(span_id)
    for rows, index, trace_id, span_ids in resent:  # in order: a repeat in one batch too
        seen = stored.setdefault(trace_id, set())
        if span_ids <= seen:
            rows[index] = (*rows[index][:10], None, None, None, None)
        seen |= span_ids


class TraceStore(StoreBase):
    """Every trace query: writes from the writer, search, get, delete, tags, assessments."""

    # -- writes --------------------------------------------------------------
    def write_traces(self, items: list) -> list[str]:
        """Write finished traces (records, or objects with ``to_record()``) in one transaction.

        Returns messages for traces that could not be turned into rows (they are left out;
        the rest is written).
        """
        roots: list[tuple] = []
        parts: list[tuple] = []
        tags: list[tuple] = []
        metas: list[tuple] = []
        spans: list[tuple] = []
        refused: list[str] = []
        resent: list[tuple] = []  # (rows, index, trace id, span ids) of records from outside
        for item in items:
            try:
                if hasattr(item, "span_rows"):  # a live trace: its span rows without dicts
                    rec = item.to_record(with_spans=False)
                    item_spans = item.span_rows()
                else:
                    rec = _record(item)
                    item_spans = []
                trace_id = rec["trace_id"]
                info = _info_row(rec)
                item_tags = [(trace_id, k, str(v)) for k, v in (rec.get("tags") or {}).items()]
                item_metas = [(trace_id, k, str(v))
                              for k, v in (rec.get("metadata") or {}).items()]
                item_spans += [(trace_id, s["span_id"], s.get("parent_span_id"), s["name"],
                                s.get("span_type"), s["start_time_ns"], s.get("end_time_ns"),
                                s.get("status_code"), s.get("status_message"), s.get("inputs"),
                                s.get("outputs"), s.get("attributes"), s.get("events"))
                               for s in rec.get("spans") or ()]
            except Exception as exc:  # one broken trace must not hold up the others
                refused.append(f"trace {getattr(item, 'trace_id', '?')} ({exc!r})")
                continue
            target = roots if rec.get("is_root", True) else parts
            if item_spans and not hasattr(item, "span_rows"):  # a record sent over HTTP
                resent.append((target, len(target), trace_id, {r[1] for r in item_spans}))
            target.append(info)
            tags += item_tags
            metas += item_metas
            spans += item_spans

        def txn(conn: sqlite3.Connection) -> list[str]:
            if resent:
                _uncount_resent(conn, resent)
            _insert_many(conn, UPSERT_ROOT, roots)
            _insert_many(conn, UPSERT_PART, parts)
            _insert_many(conn, "INSERT OR REPLACE INTO trace_tags VALUES (?, ?, ?)", tags)
            _insert_many(conn, "INSERT OR REPLACE INTO trace_metadata VALUES (?, ?, ?)", metas)
            _insert_many(conn, _INSERT_SPANS, spans)
            return refused

        return self.write(txn)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Set a tag on a trace."""
        self._require_trace(trace_id)
        self.write(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO trace_tags VALUES (?, ?, ?)", [trace_id, key, str(value)]))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag from a trace."""
        self._require_trace(trace_id)
        cur = self.write(lambda conn: conn.execute(
            "DELETE FROM trace_tags WHERE trace_id = ? AND key = ?", [trace_id, key]))
        if cur.rowcount == 0:
            raise ResourceNotFoundError(f"Trace {trace_id} has no tag {key!r}.")

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        """Record that traces belong to a run (sets their run and ``mlflow.sourceRun``)."""
        def txn(conn: sqlite3.Connection) -> None:
            for trace_id in trace_ids:
                conn.execute("UPDATE traces SET run_id = ? WHERE trace_id = ?", [run_id, trace_id])
                conn.execute("INSERT OR REPLACE INTO trace_metadata VALUES (?, 'mlflow.sourceRun', ?)",
                             [trace_id, run_id])

        self.write(txn)

    def delete_traces(self, experiment_id: str, max_timestamp_millis: int | None = None,
                      max_traces: int | None = None, trace_ids: list[str] | None = None) -> int:
        """Delete traces of an experiment: by id, or older than a time (oldest first, at most N)."""
        if trace_ids is None and max_timestamp_millis is None:
            raise InvalidParameterError(
                "delete_traces needs trace_ids or max_timestamp_millis (to delete older traces).")
        where: list[str] = ["experiment_id = ?"]
        params: list[Any] = [int(experiment_id)]
        if trace_ids is not None:
            where.append(f"trace_id IN ({', '.join('?' * len(trace_ids))})")
            params += list(trace_ids)
        if max_timestamp_millis is not None:
            where.append("request_time <= ?")
            params.append(int(max_timestamp_millis))
        limit = f" ORDER BY request_time LIMIT {int(max_traces)}" if max_traces else ""
        select = f"SELECT trace_id FROM traces WHERE {' AND '.join(where)}{limit}"

        def txn(conn: sqlite3.Connection) -> int:
            ids = [r[0] for r in conn.execute(select, params)]
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ", ".join("?" * len(chunk))
                for table in ("spans", "trace_tags", "trace_metadata", "assessments", "traces"):
                    conn.execute(f"DELETE FROM {table} WHERE trace_id IN ({marks})", chunk)
            return len(ids)

        return self.write(txn)

    # -- reads ---------------------------------------------------------------
    def _require_trace(self, trace_id: str) -> None:
        if not self.query("SELECT 1 FROM traces WHERE trace_id = ?", [trace_id]):
            raise ResourceNotFoundError(
                f"No trace with id {trace_id!r}. Find ids with kernelflow.search_traces(); "
                "a trace just made may still be queued: call kernelflow.flush() first.")

    def _infos(self, rows: list[tuple], with_assessments: bool = False) -> list[TraceInfo]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ", ".join("?" * len(ids))
        tags: dict[str, dict] = {i: {} for i in ids}
        metas: dict[str, dict] = {i: {} for i in ids}
        for tid, k, v in self.query(f"SELECT trace_id, key, value FROM trace_tags "
                                    f"WHERE trace_id IN ({marks})", ids):
            tags[tid][k] = v
        for tid, k, v in self.query(f"SELECT trace_id, key, value FROM trace_metadata "
                                    f"WHERE trace_id IN ({marks})", ids):
            metas[tid][k] = v
        assessments: dict[str, list] = {i: [] for i in ids}
        if with_assessments:
            for a in self._assessments(f"trace_id IN ({marks})", ids):
                assessments[a.trace_id].append(a)
        infos = []
        for (tid, exp, req, exe, state, rp, sp, name, run, crid, it, ot, tt, cost) in rows:
            meta = metas[tid]
            if tt is not None:  # the sum over every process that added spans
                meta["mlflow.trace.tokenUsage"] = json.dumps(
                    {"input_tokens": it or 0, "output_tokens": ot or 0, "total_tokens": tt})
            if cost is not None:
                spent = json.loads(meta.get("mlflow.trace.cost") or "{}")
                meta["mlflow.trace.cost"] = json.dumps({**spent, "total_cost": cost})
            infos.append(TraceInfo(
                trace_id=tid, experiment_id=str(exp), request_time=req, execution_duration=exe,
                state=state, request_preview=rp, response_preview=sp, name=name, run_id=run,
                tags=tags[tid], trace_metadata=meta, assessments=assessments[tid],
                client_request_id=crid))
        return infos

    def search_traces(self, experiment_ids: list | None = None, filter_string: str | None = None,
                      max_results: int = 100, order_by: list[str] | None = None,
                      page_token: str | None = None, run_id: str | None = None,
                      ) -> tuple[list[TraceInfo], str | None]:
        """Trace infos matching the filter, newest first, paged in SQL."""
        params: list = []
        where = []
        if experiment_ids is not None:
            where.append(f"t.experiment_id IN ({', '.join('?' * len(experiment_ids))})")
            params += [int(e) for e in experiment_ids]
        if run_id is not None:
            where.append("t.run_id = ?")
            params.append(run_id)
        for clause in parse_trace_filter(filter_string):
            where.append(compile_trace_clause(clause, params))
        order = compile_trace_order(parse_trace_order(order_by))
        offset = decode_page_token(page_token)
        rows = self.query(
            f"SELECT {', '.join('t.' + c.strip() for c in _INFO_COLUMNS.split(','))} "
            f"FROM traces t WHERE {' AND '.join(where) or '1'} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, int(max_results) + 1, offset])
        rows, token = split_page(rows, offset, int(max_results))
        return self._infos(rows), token

    def count_traces(self, experiment_ids: list | None = None,
                     filter_string: str | None = None) -> int:
        """How many traces match (for paging in the dashboard)."""
        params: list = []
        where = []
        if experiment_ids is not None:
            where.append(f"t.experiment_id IN ({', '.join('?' * len(experiment_ids))})")
            params += [int(e) for e in experiment_ids]
        for clause in parse_trace_filter(filter_string):
            where.append(compile_trace_clause(clause, params))
        return self.query(f"SELECT count(*) FROM traces t WHERE {' AND '.join(where) or '1'}",
                          params)[0][0]

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """One trace's info, with its assessments."""
        rows = self.query(f"SELECT {_INFO_COLUMNS} FROM traces WHERE trace_id = ?", [trace_id])
        if not rows:
            self._require_trace(trace_id)
        return self._infos(rows, with_assessments=True)[0]

    def get_trace(self, trace_id: str) -> Trace:
        """One trace: its info (with assessments) and its spans in start order."""
        found = self.get_traces([trace_id])
        if not found:
            self._require_trace(trace_id)  # raises, saying how to find ids
        return found[0]

    def get_traces(self, trace_ids: list[str]) -> list[Trace]:
        """Several whole traces in the order asked (missing ids are left out).

        Two queries per 500 ids (infos with tags, metadata and assessments; then spans),
        not two per trace.
        """
        found: dict[str, Trace] = {}
        ids = list(dict.fromkeys(str(t) for t in trace_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.query(f"SELECT {_INFO_COLUMNS} FROM traces WHERE trace_id IN ({marks})",
                              chunk)
            spans: dict[str, list[Span]] = {r[0]: [] for r in rows}
            for r in self.query(f"SELECT {', '.join(SPAN_COLUMNS)} FROM spans "
                                f"WHERE trace_id IN ({marks}) ORDER BY start_time_ns, rowid",
                                chunk):
                spans[r[0]].append(Span.from_row(r[0], dict(zip(SPAN_COLUMNS, r, strict=True))))
            for info in self._infos(rows, with_assessments=True):
                found[info.trace_id] = Trace(info=info, data=TraceData(spans=spans[info.trace_id]))
        return [found[t] for t in ids if t in found]

    # -- assessments ---------------------------------------------------------
    def log_assessment(self, assessment: Assessment) -> Assessment:
        """Store an assessment (a new one, or an update of ``assessment_id``); return it."""
        self._require_trace(assessment.trace_id)
        if assessment.kind not in ASSESSMENT_KINDS:
            raise InvalidParameterError(
                f"Assessment kind {assessment.kind!r} is not 'feedback' or 'expectation'.")
        t = now_ms()
        assessment.assessment_id = assessment.assessment_id or f"a-{uuid.uuid4().hex}"
        assessment.create_time_ms = assessment.create_time_ms or t
        assessment.last_update_time_ms = t
        row = (assessment.assessment_id, assessment.trace_id, assessment.name, assessment.kind,
               json.dumps(assessment.value), assessment.rationale, assessment.source_type,
               assessment.source_id, json.dumps(assessment.error) if assessment.error else None,
               assessment.span_id, json.dumps(assessment.metadata or {}), assessment.run_id,
               int(assessment.valid), assessment.overrides, assessment.create_time_ms, t)
        self.write(lambda conn: conn.execute(
            f"INSERT OR REPLACE INTO assessments ({_ASSESSMENT_COLUMNS}) "
            f"VALUES ({', '.join('?' * 16)})", row))
        return assessment

    def _assessments(self, where: str, params: list) -> list[Assessment]:
        rows = self.query(f"SELECT {_ASSESSMENT_COLUMNS} FROM assessments WHERE {where} "
                          "ORDER BY create_time, rowid", params)
        return [Assessment(
            assessment_id=r[0], trace_id=r[1], name=r[2], kind=r[3],
            value=json.loads(r[4]) if r[4] is not None else None, rationale=r[5],
            source_type=r[6], source_id=r[7], error=json.loads(r[8]) if r[8] else None,
            span_id=r[9], metadata=json.loads(r[10]) if r[10] else {}, run_id=r[11],
            valid=bool(r[12]), overrides=r[13], create_time_ms=r[14], last_update_time_ms=r[15],
        ) for r in rows]

    def get_assessments(self, trace_id: str, name: str | None = None,
                        kind: str | None = None) -> list[Assessment]:
        """A trace's assessments, oldest first (optionally one name or kind)."""
        where, params = ["trace_id = ?"], [trace_id]
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        return self._assessments(" AND ".join(where), params)

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        """One assessment by id."""
        found = self._assessments("trace_id = ? AND assessment_id = ?", [trace_id, assessment_id])
        if not found:
            raise ResourceNotFoundError(
                f"Trace {trace_id} has no assessment {assessment_id!r}; list them with "
                "get_assessments(trace_id).")
        return found[0]

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Delete one assessment."""
        self.get_assessment(trace_id, assessment_id)
        self.write(lambda conn: conn.execute(
            "DELETE FROM assessments WHERE trace_id = ? AND assessment_id = ?",
            [trace_id, assessment_id]))
