"""Connections to the SQLite file: WAL, busy timeout, one connection per thread.

Writes go through :meth:`StoreBase.write`, which runs a function inside a
``BEGIN IMMEDIATE`` transaction and retries while another process holds the
write lock, so users never see "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import sqlite_utils

from ..errors import InvalidParameterError, StoreError
from . import schema

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# Total time a write keeps retrying while other processes hold the lock.
LOCK_PATIENCE_S = 300.0
# SQLite's durability level for every connection (WAL mode): FULL syncs each commit to disk,
# so it survives power loss; NORMAL (KERNELFLOW_SQLITE_SYNCHRONOUS=NORMAL) survives a killed
# process only, and commits faster. The README's "Durability" says what each keeps.
SYNCHRONOUS = os.environ.get("KERNELFLOW_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
_SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def now_ms() -> int:
    """Milliseconds since the epoch, MLflow's timestamp unit."""
    return int(time.time() * 1000)


class StoreBase:
    """Owns the SQLite file: connections, transactions and the schema."""

    # What the writer treats as "this item cannot be stored" (vs "the store is down").
    DATA_ERRORS: tuple[type[BaseException], ...] = (
        TypeError, ValueError, OverflowError, sqlite3.IntegrityError, sqlite3.InterfaceError,
        InvalidParameterError)

    def __init__(self, db_path: str, artifact_root: str) -> None:
        self.db_path = os.path.abspath(db_path)
        self.artifact_root = os.path.abspath(artifact_root)
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        parent = os.path.dirname(self.db_path)
        if parent and not os.path.isdir(parent):
            raise StoreError(
                f"Cannot open tracking store {self.db_path}: folder {parent} does not exist. "
                "Create it or choose another KERNELFLOW_TRACKING_URI."
            )
        self._ensure_schema()

    # -- connections ---------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.db_path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open tracking store {self.db_path}: {exc}") from exc
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        # FULL: every commit fsyncs the WAL, so a committed write survives power loss, not
        # only a killed process (NORMAL would leave the last commits to the next checkpoint).
        # The writer commits in batches (every ~100 ms), so this costs little; see the README.
        if SYNCHRONOUS not in _SYNCHRONOUS_LEVELS:
            conn.close()
            raise StoreError(f"KERNELFLOW_SQLITE_SYNCHRONOUS={SYNCHRONOUS!r} is not a level: "
                             f"use one of {', '.join(_SYNCHRONOUS_LEVELS)} (default FULL).")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of this thread's connection."""
        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._conns_lock:
            for conn in self._all_conns:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all_conns.clear()
        self._local = threading.local()

    # -- transactions --------------------------------------------------------
    @staticmethod
    def _retry(fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + LOCK_PATIENCE_S
        delay = 0.002
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc):
                    raise StoreError(
                        f"The tracking store could not be used: {exc}. Check that the file and "
                        "its folder are writable and the disk has space."
                    ) from exc
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"The tracking store stayed locked by another process for "
                        f"{LOCK_PATIENCE_S:.0f}s: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def write(self, fn: Callable[[sqlite3.Connection], T], durable: bool = True) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying while the file is locked.

        Args:
            fn: the transaction's work.
            durable: with ``synchronous = FULL`` (the default), False commits this one
                without its own fsync; it becomes durable with the next durable commit (the
                WAL is synced up to there), as a new run does with its first logged batch.
        """
        conn = self.conn
        lazy = not durable and SYNCHRONOUS == "FULL"

        def attempt() -> T:
            if lazy:
                conn.execute("PRAGMA synchronous = NORMAL")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                if lazy:
                    conn.execute("PRAGMA synchronous = FULL")
            return result

        return self._retry(attempt)

    def query(self, sql: str, params: tuple | list | dict = ()) -> list[tuple]:
        """Run one read query and return all rows."""
        return self._retry(lambda: self.conn.execute(sql, params).fetchall())

    # -- schema --------------------------------------------------------------
    def _ensure_schema(self) -> None:
        try:
            version = schema.current_version(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.db_path} is not a kernelflow tracking file ({exc}). "
                "Point KERNELFLOW_TRACKING_URI at a new or kernelflow-made .db file."
            ) from exc
        if version != schema.SCHEMA_VERSION:
            self.write(lambda conn: schema.migrate(sqlite_utils.Database(conn)))
        self.store_id = self._store_id()

    def _store_id(self) -> str:
        """A random id given to the file once, so servers and notebooks can tell stores apart."""
        def read() -> str | None:
            rows = self.query("SELECT value FROM kernelflow_meta WHERE key = 'store_id'")
            return rows[0][0] if rows else None

        found = read()
        if found is None:
            self.write(lambda conn: conn.execute(
                "INSERT OR IGNORE INTO kernelflow_meta (key, value) "
                "VALUES ('store_id', lower(hex(randomblob(16))))"
            ))
            found = read()
        return str(found)
