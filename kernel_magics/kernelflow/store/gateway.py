"""The LLM gateway's rows: API keys (hashed), usage windows for rate limits, and calls.

Keys are stored as SHA-256 hashes of random secrets (the secret is shown once, when
created). ``gateway_usage`` counts requests and tokens per scope (``key:NAME``,
``route:NAME``) and minute, so rate limits hold across gateway workers sharing the
file. ``gateway_calls`` holds one row per call for the dashboard's Gateway page; the
call's spans live in the traces tables.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from ..errors import InvalidParameterError, ResourceExistsError, ResourceNotFoundError
from .base import StoreBase, now_ms

__all__ = ["GatewayKey", "GatewayStore", "create_tables", "CALL_COLUMNS"]


@dataclass
class GatewayKey:
    """A gateway API key as the store records it (never the secret itself).

    Attributes:
        name: a unique name (``team-a``); traces and spend are recorded under it.
        prefix: the secret's first characters, to recognise it in lists.
        budget: the spend limit in US dollars (None: no limit).
        spend: the spend so far in US dollars, from litellm's cost map.
        rpm: requests per minute (None: no limit).
        tpm: tokens per minute (None: no limit).
        routes: the routes it may call (empty: all).
        created_time: ms since the epoch.
        revoked_time: when it was revoked (None: active).
        last_used_time: the last call's time.
        key: the secret, only on the object ``create_gateway_key`` returns.
    """

    name: str
    prefix: str
    budget: float | None = None
    spend: float = 0.0
    rpm: int | None = None
    tpm: int | None = None
    routes: list[str] = field(default_factory=list)
    created_time: int | None = None
    revoked_time: int | None = None
    last_used_time: int | None = None
    key: str | None = None

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_time is None

    def to_dict(self) -> dict[str, Any]:
        """The key as a plain dict (without the secret)."""
        d = asdict(self)
        d.pop("key")
        return d


CALL_COLUMNS = ("call_id", "time", "route", "provider", "model", "key_name", "status",
                "latency_ms", "ttfb_ms", "prompt_tokens", "completion_tokens", "cost",
                "trace_id", "error", "fallbacks", "stream", "cached", "experiment_id")
_KEY_COLUMNS = ("name", "prefix", "budget", "spend", "rpm", "tpm", "routes", "created_time",
                "revoked_time", "last_used_time")


def create_tables(db: sqlite_utils.Database) -> None:
    """Migration 10: the gateway's tables."""
    db.table("gateway_keys").create(
        {"name": str, "key_hash": str, "prefix": str, "budget": float, "spend": float,
         "rpm": int, "tpm": int, "routes": str, "created_time": int, "revoked_time": int,
         "last_used_time": int},
        pk="name", not_null={"key_hash", "prefix"},
    )
    db.table("gateway_keys").create_index(["key_hash"], unique=True)
    db.table("gateway_usage").create(
        {"scope": str, "minute": int, "requests": int, "tokens": int}, pk=("scope", "minute"),
    )
    db.table("gateway_calls").create(
        {"call_id": str, "time": int, "route": str, "provider": str, "model": str,
         "key_name": str, "status": int, "latency_ms": float, "ttfb_ms": float,
         "prompt_tokens": int, "completion_tokens": int, "cost": float, "trace_id": str,
         "error": str, "fallbacks": int, "stream": int, "cached": int, "experiment_id": str},
        pk="call_id",
    )
    db.table("gateway_calls").create_index(["time"])
    db.table("gateway_calls").create_index(["route", "time"])


def _key(row: tuple) -> GatewayKey:
    d = dict(zip(_KEY_COLUMNS, row, strict=True))
    d["routes"] = json.loads(d["routes"] or "[]")
    d["spend"] = d["spend"] or 0.0
    return GatewayKey(**d)


class GatewayStore(StoreBase):
    """Gateway keys, usage windows and call records (mixed into ``SqliteStore``)."""

    # -- keys -------------------------------------------------------------------
    def create_gateway_key(self, name: str, key_hash: str, prefix: str,
                           budget: float | None = None, rpm: int | None = None,
                           tpm: int | None = None, routes: list[str] | None = None) -> GatewayKey:
        """Record a new key by its hash; ResourceExistsError if the name is taken."""
        row = {"name": name, "key_hash": key_hash, "prefix": prefix, "budget": budget,
               "spend": 0.0, "rpm": rpm, "tpm": tpm, "routes": json.dumps(routes or []),
               "created_time": now_ms(), "revoked_time": None, "last_used_time": None}

        def insert(conn: sqlite3.Connection) -> None:
            found = conn.execute("SELECT revoked_time FROM gateway_keys WHERE name = ?",
                                 [name]).fetchone()
            if found is not None and found[0] is None:
                raise ResourceExistsError(
                    f"A gateway key named {name!r} already exists. Revoke it first "
                    f"(kernelflow gateway keys revoke {name}) or choose another name.")
            conn.execute("DELETE FROM gateway_keys WHERE name = ?", [name])
            cols = ", ".join(row)
            conn.execute(f"INSERT INTO gateway_keys ({cols}) VALUES "
                         f"({', '.join('?' for _ in row)})", list(row.values()))

        self.write(insert)
        return self.get_gateway_key(name)

    def get_gateway_key(self, name: str) -> GatewayKey:
        """The key named ``name``; ResourceNotFoundError if there is none."""
        rows = self.query(f"SELECT {', '.join(_KEY_COLUMNS)} FROM gateway_keys WHERE name = ?",
                          [name])
        if not rows:
            raise ResourceNotFoundError(f"No gateway key named {name!r}. "
                                        "List them with: kernelflow gateway keys list")
        return _key(rows[0])

    def find_gateway_key(self, key_hash: str) -> GatewayKey | None:
        """The key whose secret hashes to ``key_hash`` (revoked ones too), or None."""
        rows = self.query(f"SELECT {', '.join(_KEY_COLUMNS)} FROM gateway_keys "
                          "WHERE key_hash = ?", [key_hash])
        return _key(rows[0]) if rows else None

    def list_gateway_keys(self, include_revoked: bool = False) -> list[GatewayKey]:
        """Every key, by name."""
        where = "" if include_revoked else " WHERE revoked_time IS NULL"
        rows = self.query(f"SELECT {', '.join(_KEY_COLUMNS)} FROM gateway_keys{where} "
                          "ORDER BY name")
        return [_key(r) for r in rows]

    def count_gateway_keys(self) -> int:
        """How many active keys there are."""
        return self.query("SELECT count(*) FROM gateway_keys WHERE revoked_time IS NULL")[0][0]

    def revoke_gateway_key(self, name: str) -> None:
        """Revoke a key: it stops working at once."""
        def revoke(conn: sqlite3.Connection) -> int:
            return conn.execute("UPDATE gateway_keys SET revoked_time = ? WHERE name = ? AND "
                                "revoked_time IS NULL", [now_ms(), name]).rowcount

        if not self.write(revoke):
            raise ResourceNotFoundError(f"No active gateway key named {name!r}. "
                                        "List them with: kernelflow gateway keys list")

    # -- usage windows ----------------------------------------------------------
    def add_gateway_usage(self, scope: str, window: int, requests: int = 0,
                          tokens: int = 0) -> tuple[int, int]:
        """Add to a scope's counters for one window; returns the totals after adding."""
        def add(conn: sqlite3.Connection) -> tuple[int, int]:
            conn.execute(
                "INSERT INTO gateway_usage (scope, minute, requests, tokens) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (scope, minute) DO UPDATE SET requests = requests + excluded.requests,"
                " tokens = tokens + excluded.tokens", [scope, window, requests, tokens])
            row = conn.execute("SELECT requests, tokens FROM gateway_usage WHERE scope = ? AND "
                               "minute = ?", [scope, window]).fetchone()
            if window % 50 == 0:  # now and then, forget windows older than a day
                conn.execute("DELETE FROM gateway_usage WHERE minute < ?", [window - 1440])
            return int(row[0]), int(row[1])

        return self.write(add)

    # -- calls ------------------------------------------------------------------
    def record_gateway_calls(self, calls: list[dict[str, Any]]) -> None:
        """Insert call records and add their cost to their keys' spend, in one transaction."""
        if not calls:
            return
        rows = [[c.get(k) for k in CALL_COLUMNS] for c in calls]
        for row in rows:
            row[0] = row[0] or uuid.uuid4().hex
        spend: dict[str, tuple[float, int]] = {}
        for c in calls:
            if c.get("key_name"):
                cost, last = spend.get(c["key_name"], (0.0, 0))
                spend[c["key_name"]] = (cost + float(c.get("cost") or 0.0),
                                        max(last, int(c.get("time") or 0)))

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                f"INSERT OR REPLACE INTO gateway_calls ({', '.join(CALL_COLUMNS)}) VALUES "
                f"({', '.join('?' for _ in CALL_COLUMNS)})", rows)
            conn.executemany(
                "UPDATE gateway_keys SET spend = coalesce(spend, 0) + ?, last_used_time = ? "
                "WHERE name = ?", [(cost, last, name) for name, (cost, last) in spend.items()])

        self.write(insert)

    def search_gateway_calls(self, since_ms: int | None = None, route: str | None = None,
                             key_name: str | None = None,
                             max_results: int = 1000) -> list[dict[str, Any]]:
        """Call records, newest first."""
        if not isinstance(max_results, int) or max_results <= 0:
            raise InvalidParameterError(f"max_results must be a positive integer, "
                                        f"got {max_results!r}.")
        clauses, params = [], []
        for column, value in (("time >=", since_ms), ("route =", route),
                              ("key_name =", key_name)):
            if value is not None:
                clauses.append(f"{column} ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.query(f"SELECT {', '.join(CALL_COLUMNS)} FROM gateway_calls{where} "
                          f"ORDER BY time DESC LIMIT ?", [*params, max_results])
        return [dict(zip(CALL_COLUMNS, r, strict=True)) for r in rows]
