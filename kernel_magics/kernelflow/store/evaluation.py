"""Evaluation datasets: their tables and all their SQL (MLflow 3's ``mlflow.genai.datasets``).

A dataset has a name, JSON tags, the experiments it belongs to, and records.
A record is identified within its dataset by the hash of its ``inputs``:
merging a record with the same inputs updates it (expectations and tags merged,
outputs replaced) instead of adding one. After every change the dataset gets a
new ``digest`` (a hash of its records' content); each distinct digest is kept in
``eval_dataset_versions`` with its time, record count and a snapshot of its
records, so a run can name the exact version it was evaluated on and that version
can be read back later.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from ..errors import InvalidParameterError, ResourceExistsError, ResourceNotFoundError
from ..paging import decode_page_token, split_page
from .base import StoreBase, now_ms

_DATASET_COLUMNS = ("dataset_id, name, tags, schema, profile, digest, created_time, "
                    "last_update_time, created_by, last_updated_by")
_RECORD_COLUMNS = ("dataset_record_id, dataset_id, inputs, outputs, expectations, tags, source, "
                   "source_id, source_type, created_time, last_update_time, created_by, "
                   "last_updated_by")
_JSON_RECORD_FIELDS = ("inputs", "outputs", "expectations", "tags", "source")
_ORDER_KEYS = {"name", "created_time", "last_update_time", "dataset_id"}
_CLAUSE = re.compile(
    r"\s*(?P<key>tags\.(?:`[^`]+`|\w+)|\w+)\s*(?P<op>=|!=|>=|<=|>|<|LIKE|ILIKE)\s*"
    r"(?P<value>'(?:[^']|'')*'|\"[^\"]*\"|-?\d+)\s*", re.I)


def create_tables(db: sqlite_utils.Database) -> None:
    """Migration 11: evaluation datasets, their experiments, records and versions."""
    db.table("eval_datasets").create(
        {"dataset_id": str, "name": str, "tags": str, "schema": str, "profile": str,
         "digest": str, "created_time": int, "last_update_time": int, "created_by": str,
         "last_updated_by": str},
        pk="dataset_id", not_null={"name", "created_time"},
    )
    db.table("eval_datasets").create_index(["name"])
    db.table("eval_dataset_experiments").create(
        {"dataset_id": str, "experiment_id": int}, pk=("dataset_id", "experiment_id"))
    db.table("eval_dataset_experiments").create_index(["experiment_id"])
    db.table("eval_dataset_records").create(
        {"dataset_record_id": str, "dataset_id": str, "input_hash": str, "inputs": str,
         "outputs": str, "expectations": str, "tags": str, "source": str, "source_id": str,
         "source_type": str, "created_time": int, "last_update_time": int, "created_by": str,
         "last_updated_by": str},
        pk="dataset_record_id", not_null={"dataset_id", "input_hash", "inputs"},
    )
    db.table("eval_dataset_records").create_index(["dataset_id", "input_hash"], unique=True)
    db.table("eval_dataset_versions").create(
        {"dataset_id": str, "digest": str, "created_time": int, "record_count": int,
         "records": str},
        pk=("dataset_id", "digest"),
    )


def input_hash(inputs: Any) -> str:
    """The identity of a record within its dataset: a hash of its inputs (MLflow's)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dataset(row: tuple, experiment_ids: list[str]) -> dict:
    keys = [k.strip() for k in _DATASET_COLUMNS.split(",")]
    d = dict(zip(keys, row, strict=True))
    d["tags"] = _loads(d["tags"]) or {}
    d["experiment_ids"] = experiment_ids
    return d


def _record(row: tuple) -> dict:
    keys = [k.strip() for k in _RECORD_COLUMNS.split(",")]
    r = dict(zip(keys, row, strict=True))
    for k in _JSON_RECORD_FIELDS:
        r[k] = _loads(r[k])
    return {k: v for k, v in r.items() if v is not None}


def _literal(text: str) -> Any:
    if text[0] in "'\"":
        return text[1:-1].replace("''", "'") if text[0] == "'" else text[1:-1]
    return int(text)


def parse_dataset_filter(filter_string: str | None) -> tuple[str, list]:
    """``name = 'x' AND tags.k = 'v' AND created_time >= 1`` as a SQL condition."""
    if not filter_string or not filter_string.strip():
        return "1", []
    parts, params = [], []
    for clause in re.split(r"\s+AND\s+", filter_string.strip(), flags=re.I):
        m = _CLAUSE.fullmatch(clause)
        if not m:
            raise InvalidParameterError(
                f"Cannot parse dataset filter {clause!r}: use name, created_time, "
                "last_update_time, created_by or tags.<key> with =, !=, <, >, LIKE, "
                "joined by AND, e.g. \"name = 'qa' AND tags.team = 'ml'\".")
        key, op, value = m["key"], m["op"].upper(), _literal(m["value"])
        if key.lower().startswith("tags."):
            column = "json_extract(tags, ?)"
            params.append('$."' + key[5:].strip("`").replace('"', '\\"') + '"')
        elif key in ("name", "created_time", "last_update_time", "created_by",
                     "last_updated_by", "dataset_id", "digest"):
            column = key
        else:
            raise InvalidParameterError(f"Unknown dataset filter key {key!r}.")
        if op == "ILIKE":
            parts.append(f"lower({column}) LIKE lower(?)")
        else:
            parts.append(f"{column} {op} ?")
        params.append(value)
    return " AND ".join(parts), params


def parse_dataset_order(order_by: list[str] | None) -> str:
    """``["name ASC", "created_time DESC"]`` as an ORDER BY list (newest first by default)."""
    terms = []
    for item in order_by or []:
        words = item.split()
        if not words or words[0] not in _ORDER_KEYS or len(words) > 2 or \
                (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise InvalidParameterError(
                f"Cannot order datasets by {item!r}: use name, created_time or "
                "last_update_time with ASC or DESC.")
        terms.append(f"{words[0]} {words[1].upper() if len(words) == 2 else 'ASC'}")
    terms.append("created_time DESC" if not terms else "dataset_id ASC")
    return ", ".join(terms)


class EvaluationDatasetStore(StoreBase):
    """Evaluation datasets in the SQLite file (a mixin of ``SqliteStore``)."""

    def _dataset_exists(self, conn: sqlite3.Connection, dataset_id: str) -> None:
        if conn.execute("SELECT 1 FROM eval_datasets WHERE dataset_id = ?",
                        (dataset_id,)).fetchone() is None:
            raise ResourceNotFoundError(f"Evaluation dataset {dataset_id!r} does not exist.")

    def _experiment_ids(self, dataset_id: str) -> list[str]:
        rows = self.query("SELECT experiment_id FROM eval_dataset_experiments WHERE dataset_id = ? "
                          "ORDER BY experiment_id", (dataset_id,))
        return [str(r[0]) for r in rows]

    def _check_experiments(self, conn: sqlite3.Connection, experiment_ids: list[str]) -> None:
        for eid in experiment_ids:
            found = conn.execute("SELECT 1 FROM experiments WHERE experiment_id = ?",
                                 (_int_id(eid),)).fetchone()
            if found is None:
                raise ResourceNotFoundError(f"Experiment {eid!r} does not exist.")

    def create_dataset(self, name: str, tags: dict | None = None,
                       experiment_ids: list[str] | None = None,
                       created_by: str | None = None) -> dict:
        """Create an empty dataset; return it as a dict (MLflow's ``Dataset`` fields)."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError("An evaluation dataset needs a non-empty name.")
        dataset_id = "d-" + uuid.uuid4().hex
        now = now_ms()
        ids = [str(e) for e in experiment_ids or []]

        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM eval_datasets WHERE name = ?", (name,)).fetchone():
                raise ResourceExistsError(
                    f"An evaluation dataset named {name!r} already exists; get it with "
                    "get_dataset(name=...) or choose another name.")
            self._check_experiments(conn, ids)
            conn.execute(
                f"INSERT INTO eval_datasets ({_DATASET_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (dataset_id, name, _dumps(tags or {}), None, None, _digest([]), now, now,
                 created_by, created_by))
            conn.executemany("INSERT INTO eval_dataset_experiments VALUES (?, ?)",
                             [(dataset_id, _int_id(e)) for e in ids])
            conn.execute("INSERT INTO eval_dataset_versions VALUES (?, ?, ?, 0, '[]')",
                         (dataset_id, _digest([]), now))

        self.write(write)
        return self.get_dataset(dataset_id)

    def get_dataset(self, dataset_id: str) -> dict:
        """A dataset by id."""
        rows = self.query(f"SELECT {_DATASET_COLUMNS} FROM eval_datasets WHERE dataset_id = ?",
                          (dataset_id,))
        if not rows:
            raise ResourceNotFoundError(f"Evaluation dataset {dataset_id!r} does not exist.")
        return _dataset(rows[0], self._experiment_ids(dataset_id))

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset with its records and versions."""
        def write(conn: sqlite3.Connection) -> None:
            self._dataset_exists(conn, dataset_id)
            for table in ("eval_dataset_records", "eval_dataset_experiments",
                          "eval_dataset_versions", "eval_datasets"):
                conn.execute(f"DELETE FROM {table} WHERE dataset_id = ?", (dataset_id,))

        self.write(write)

    def search_datasets(self, experiment_ids: list[str] | None = None,
                        filter_string: str | None = None, max_results: int = 1000,
                        order_by: list[str] | None = None,
                        page_token: str | None = None) -> tuple[list[dict], str | None]:
        """Datasets matching a filter, one page at a time; returns ``(datasets, next_token)``."""
        where, params = parse_dataset_filter(filter_string)
        if experiment_ids:
            marks = ",".join("?" * len(experiment_ids))
            where += (" AND dataset_id IN (SELECT dataset_id FROM eval_dataset_experiments "
                      f"WHERE experiment_id IN ({marks}))")
            params += [_int_id(e) for e in experiment_ids]
        offset = decode_page_token(page_token)
        rows = self.query(
            f"SELECT {_DATASET_COLUMNS} FROM eval_datasets WHERE {where} "
            f"ORDER BY {parse_dataset_order(order_by)} LIMIT ? OFFSET ?",
            [*params, max_results + 1, offset])
        rows, token = split_page(rows, offset, max_results)
        return [_dataset(r, self._experiment_ids(r[0])) for r in rows], token

    def upsert_dataset_records(self, dataset_id: str, records: list[dict],
                               updated_by: str | None = None) -> dict[str, int]:
        """Add records; one whose inputs are already there is merged into it.

        Returns:
            ``{"inserted": n, "updated": m}``.
        """
        now = now_ms()

        def write(conn: sqlite3.Connection) -> dict[str, int]:
            self._dataset_exists(conn, dataset_id)
            counts = {"inserted": 0, "updated": 0}
            for rec in records:
                key = "inserted" if _upsert(conn, dataset_id, rec, now, updated_by) else "updated"
                counts[key] += 1
            _refresh(conn, dataset_id, now, updated_by)
            return counts

        return self.write(write)

    def load_dataset_records(self, dataset_id: str, max_results: int | None = None,
                             page_token: str | None = None) -> tuple[list[dict], str | None]:
        """A dataset's records, oldest first, one page at a time."""
        self.get_dataset(dataset_id)
        offset = decode_page_token(page_token)
        limit = -1 if max_results is None else max_results + 1
        rows = self.query(f"SELECT {_RECORD_COLUMNS} FROM eval_dataset_records WHERE "
                          "dataset_id = ? ORDER BY created_time, rowid LIMIT ? OFFSET ?",
                          (dataset_id, limit, offset))
        token = None
        if max_results is not None:
            rows, token = split_page(rows, offset, max_results)
        return [_record(r) for r in rows], token

    def delete_dataset_records(self, dataset_id: str, record_ids: list[str]) -> int:
        """Delete records by id; return how many were deleted."""
        now = now_ms()

        def write(conn: sqlite3.Connection) -> int:
            self._dataset_exists(conn, dataset_id)
            n = 0
            for rid in record_ids:
                n += conn.execute("DELETE FROM eval_dataset_records WHERE dataset_id = ? AND "
                                  "dataset_record_id = ?", (dataset_id, rid)).rowcount
            if n:
                _refresh(conn, dataset_id, now, None)
            return n

        return self.write(write)

    def set_dataset_tags(self, dataset_id: str, tags: dict) -> None:
        """Merge tags into the dataset's (a None value removes that tag)."""
        def write(conn: sqlite3.Connection) -> None:
            self._dataset_exists(conn, dataset_id)
            (current,) = conn.execute("SELECT tags FROM eval_datasets WHERE dataset_id = ?",
                                      (dataset_id,)).fetchone()
            merged = {**(_loads(current) or {}), **tags}
            merged = {k: v for k, v in merged.items() if v is not None}
            conn.execute("UPDATE eval_datasets SET tags = ?, last_update_time = ? "
                         "WHERE dataset_id = ?", (_dumps(merged), now_ms(), dataset_id))

        self.write(write)

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None:
        """Remove one tag."""
        self.set_dataset_tags(dataset_id, {key: None})

    def get_dataset_experiment_ids(self, dataset_id: str) -> list[str]:
        """The experiments a dataset belongs to."""
        self.get_dataset(dataset_id)
        return self._experiment_ids(dataset_id)

    def set_dataset_experiments(self, dataset_id: str, add: Sequence[str] = (),
                                remove: Sequence[str] = ()) -> dict:
        """Add the dataset to experiments and/or remove it from others; return the dataset."""
        def write(conn: sqlite3.Connection) -> None:
            self._dataset_exists(conn, dataset_id)
            self._check_experiments(conn, list(add))
            conn.executemany("INSERT OR IGNORE INTO eval_dataset_experiments VALUES (?, ?)",
                             [(dataset_id, _int_id(e)) for e in add])
            conn.executemany("DELETE FROM eval_dataset_experiments WHERE dataset_id = ? AND "
                             "experiment_id = ?", [(dataset_id, _int_id(e)) for e in remove])

        self.write(write)
        return self.get_dataset(dataset_id)

    def get_dataset_version_records(self, dataset_id: str, digest: str) -> list[dict]:
        """The records a dataset held when its digest was ``digest``."""
        rows = self.query("SELECT records FROM eval_dataset_versions WHERE dataset_id = ? AND "
                          "digest = ?", (dataset_id, digest))
        if not rows:
            self.get_dataset(dataset_id)
            raise ResourceNotFoundError(
                f"Evaluation dataset {dataset_id!r} never had digest {digest!r}; "
                "its versions are listed by get_dataset_versions.")
        return json.loads(rows[0][0] or "[]")

    def list_dataset_versions(self, dataset_id: str) -> list[dict]:
        """Every digest the dataset has had, oldest first: ``digest``, ``created_time``,
        ``record_count``."""
        self.get_dataset(dataset_id)
        rows = self.query("SELECT digest, created_time, record_count FROM eval_dataset_versions "
                          "WHERE dataset_id = ? ORDER BY created_time, rowid", (dataset_id,))
        return [{"digest": d, "created_time": t, "record_count": n} for d, t, n in rows]


def _int_id(experiment_id: Any) -> int:
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Experiment id {experiment_id!r} is not valid: ids are whole numbers.") from None


def _upsert(conn: sqlite3.Connection, dataset_id: str, rec: dict, now: int,
            user: str | None) -> bool:
    inputs = rec.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise InvalidParameterError(
            "Each record needs 'inputs' as a non-empty dict, e.g. {'inputs': {'question': ...}}.")
    h = input_hash(inputs)
    found = conn.execute("SELECT dataset_record_id, outputs, expectations, tags FROM "
                         "eval_dataset_records WHERE dataset_id = ? AND input_hash = ?",
                         (dataset_id, h)).fetchone()
    source = rec.get("source")
    if found is None:
        conn.execute(
            f"INSERT INTO eval_dataset_records (input_hash, {_RECORD_COLUMNS}) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (h, "dr-" + uuid.uuid4().hex, dataset_id, _dumps(inputs), _dumps(rec.get("outputs")),
             _dumps(rec.get("expectations")), _dumps(rec.get("tags")), _dumps(source),
             _source_id(source), _source_type(source), now, now, user, user))
        return True
    rid, outputs, expectations, tags = found
    new_outputs = rec["outputs"] if rec.get("outputs") is not None else _loads(outputs)
    merged_exp = {**(_loads(expectations) or {}), **(rec.get("expectations") or {})} or None
    merged_tags = {**(_loads(tags) or {}), **(rec.get("tags") or {})} or None
    conn.execute("UPDATE eval_dataset_records SET outputs = ?, expectations = ?, tags = ?, "
                 "last_update_time = ?, last_updated_by = ? WHERE dataset_record_id = ?",
                 (_dumps(new_outputs), _dumps(merged_exp), _dumps(merged_tags), now, user, rid))
    return False


def _source_type(source: Any) -> str | None:
    return source.get("source_type") if isinstance(source, dict) else None


def _source_id(source: Any) -> str | None:
    if not isinstance(source, dict):
        return None
    data = source.get("source_data") or {}
    return data.get("trace_id") or data.get("source_id")


def _digest(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row).encode())
    return h.hexdigest()[:16]


def _refresh(conn: sqlite3.Connection, dataset_id: str, now: int, user: str | None) -> None:
    """New digest, schema and profile after a change; a new digest is a new version."""
    rows = conn.execute("SELECT input_hash, inputs, outputs, expectations FROM "
                        "eval_dataset_records WHERE dataset_id = ? ORDER BY input_hash",
                        (dataset_id,)).fetchall()
    digest = _digest(rows)
    fresh = conn.execute("SELECT 1 FROM eval_dataset_versions WHERE dataset_id = ? AND digest = ?",
                         (dataset_id, digest)).fetchone() is None
    schema: dict[str, dict[str, str]] = {"inputs": {}, "outputs": {}, "expectations": {}}
    for _, *fields in rows:
        for part, text in zip(("inputs", "outputs", "expectations"), fields, strict=True):
            value = _loads(text)
            if isinstance(value, dict):
                for k, v in value.items():
                    schema[part].setdefault(k, type(v).__name__)
            elif value is not None:
                schema[part].setdefault("value", type(value).__name__)
    conn.execute("UPDATE eval_datasets SET digest = ?, schema = ?, profile = ?, "
                 "last_update_time = ?, last_updated_by = coalesce(?, last_updated_by) "
                 "WHERE dataset_id = ?",
                 (digest, json.dumps(schema), json.dumps({"num_records": len(rows)}), now, user,
                  dataset_id))
    if fresh:  # a new version: keep what it holds
        snapshot = [{k: _loads(v) for k, v in zip(("inputs", "outputs", "expectations"),
                                                  row[1:], strict=True) if v is not None}
                    for row in rows]
        conn.execute("INSERT INTO eval_dataset_versions VALUES (?, ?, ?, ?, ?)",
                     (dataset_id, digest, now, len(rows), json.dumps(snapshot)))
