"""The model registry: registered models, versions, tags, aliases, stages — all their SQL.

Version numbers are taken as ``max + 1`` inside the ``BEGIN IMMEDIATE``
transaction of :meth:`StoreBase.write`, so two processes registering the same
model at once get distinct consecutive numbers. A deleted version keeps its
row (stage ``Deleted_Internal``, as MLflow does) so its number is never reused.

Every change of an alias or a stage is also recorded in ``model_label_history``
(which version held ``champion`` or ``Production``, from when to when).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..entities import ModelLabelChange, ModelVersion, RegisteredModel
from ..errors import InvalidParameterError, ResourceExistsError, ResourceNotFoundError
from ..paging import decode_page_token, split_page
from .base import now_ms
from .registry_filter import compile_conditions, compile_order, parse_registry_filter
from .tracking import TrackingStore

DELETED = "Deleted_Internal"
_LIVE = f"current_stage != '{DELETED}'"
ACTIVE_STAGES = ("Staging", "Production")
_VERSION_COLUMNS = (
    "name, version, creation_time, last_updated_time, description, user_id, current_stage, "
    "source, run_id, run_link, status, status_message, storage_location"
)


def _missing_model(name: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(
        f"Registered Model with name={name} not found: registered model {name!r} does not "
        "exist. Create it with create_registered_model() "
        "or register_model(), or check the name with search_registered_models()."
    )


def _missing_version(name: str, version: Any) -> ResourceNotFoundError:
    return ResourceNotFoundError(
        f"Model Version (name={name}, version={version}) not found: model version {name!r} "
        f"version {version} does not exist. "
        f"List the versions with search_model_versions(\"name = '{name}'\")."
    )


def _require_model(conn: sqlite3.Connection, name: str) -> None:
    if conn.execute("SELECT 1 FROM registered_models WHERE name = ?", (name,)).fetchone() is None:
        raise _missing_model(name)


def _require_version(conn: sqlite3.Connection, name: str, version: int) -> str:
    row = conn.execute(
        f"SELECT current_stage FROM model_versions WHERE name = ? AND version = ? AND {_LIVE}",
        (name, version),
    ).fetchone()
    if row is None:
        _require_model(conn, name)
        raise _missing_version(name, version)
    return row[0]


def _touch(conn: sqlite3.Connection, name: str, now: int, version: int | None = None) -> None:
    conn.execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", (now, name))
    if version is not None:
        conn.execute(
            "UPDATE model_versions SET last_updated_time = ? WHERE name = ? AND version = ?",
            (now, name, version),
        )


def _open_label(conn, name: str, kind: str, label: str, version: int, now: int) -> None:
    conn.execute(
        "INSERT INTO model_label_history (name, kind, label, version, start_time, end_time) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        (name, kind, label, version, now),
    )


def _close_label(conn, name: str, kind: str, label: str, version: int | None, now: int) -> None:
    sql = (
        "UPDATE model_label_history SET end_time = ? WHERE name = ? AND kind = ? AND label = ? "
        "AND end_time IS NULL"
    )
    params: list[Any] = [now, name, kind, label]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    conn.execute(sql, params)


def _set_stage(conn, name: str, version: int, old: str, new: str, now: int) -> None:
    conn.execute(
        "UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
        "WHERE name = ? AND version = ?",
        (new, now, name, version),
    )
    if old != "None":
        _close_label(conn, name, "stage", old, version, now)
    if new != "None":
        _open_label(conn, name, "stage", new, version, now)


class RegistryStore(TrackingStore):
    """Registry SQL, mixed into :class:`~kernelflow.store.SqliteStore`."""

    # -- registered models ---------------------------------------------------
    def create_registered_model(
        self, name: str, tags: dict[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Insert a registered model; ResourceExistsError when the name is taken."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM registered_models WHERE name = ?", (name,)).fetchone():
                raise ResourceExistsError(
                    f"Registered Model (name={name}) already exists: registered model {name!r} "
                    "already exists. Use get_registered_model() or "
                    "choose another name."
                )
            conn.execute(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, description)"
                " VALUES (?, ?, ?, ?)",
                (name, now, now, description),
            )
            conn.executemany(
                "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)",
                [(name, k, v) for k, v in (tags or {}).items()],
            )

        self.write(txn)
        return self.get_registered_model(name)

    def get_or_create_registered_model(self, name: str) -> bool:
        """Create the model unless it exists; return True when it was created."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO registered_models (name, creation_time, last_updated_time)"
                " VALUES (?, ?, ?)",
                (name, now, now),
            )
            return cur.rowcount == 1

        return self.write(txn)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with tags, aliases and latest version per stage."""
        rows = self.query(
            "SELECT name, creation_time, last_updated_time, description FROM registered_models "
            "WHERE name = ?",
            (name,),
        )
        if not rows:
            raise _missing_model(name)
        return self._registered_model(rows[0])

    def _registered_model(self, row: tuple) -> RegisteredModel:
        name = row[0]
        tags = dict(self.query("SELECT key, value FROM registered_model_tags WHERE name = ?", (name,)))
        aliases = {
            alias: str(version)
            for alias, version in self.query(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias",
                (name,),
            )
        }
        return RegisteredModel(
            name=name,
            creation_timestamp=row[1],
            last_updated_timestamp=row[2],
            description=row[3],
            tags=tags,
            aliases=aliases,
            latest_versions=self.get_latest_versions(name),
        )

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[RegisteredModel], str | None]:
        """Return one page of registered models and the next page's token."""
        where, params = compile_conditions(
            parse_registry_filter(filter_string, versions=False),
            "m", "registered_model_tags", "name",
        )
        offset = decode_page_token(page_token)
        rows = self.query(
            "SELECT m.name, m.creation_time, m.last_updated_time, m.description "
            f"FROM registered_models m WHERE {where} "
            f"ORDER BY {compile_order(order_by, False, 'm')} LIMIT ? OFFSET ?",
            [*params, max_results + 1, offset],
        )
        rows, token = split_page(rows, offset, max_results)
        return [self._registered_model(r) for r in rows], token

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a registered model's description."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            conn.execute(
                "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?",
                (description, now_ms(), name),
            )

        self.write(txn)
        return self.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model everywhere it is referenced (versions, tags, aliases, history)."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            if conn.execute("SELECT 1 FROM registered_models WHERE name = ?", (new_name,)).fetchone():
                raise ResourceExistsError(
                    f"Cannot rename {name!r} to {new_name!r}: a registered model with that "
                    "name already exists."
                )
            for table in (
                "registered_models", "registered_model_tags", "model_versions",
                "model_version_tags", "registered_model_aliases", "model_label_history",
            ):
                conn.execute(f"UPDATE {table} SET name = ? WHERE name = ?", (new_name, name))
            _touch(conn, new_name, now_ms())

        self.write(txn)
        return self.get_registered_model(new_name)

    def delete_registered_model(self, name: str) -> None:
        """Delete a model with its versions, tags, aliases and history (not run artifacts)."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            for table in (
                "registered_model_tags", "model_version_tags", "registered_model_aliases",
                "model_label_history", "model_versions", "registered_models",
            ):
                conn.execute(f"DELETE FROM {table} WHERE name = ?", (name,))

        self.write(txn)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set (or replace) a tag on a registered model."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            conn.execute(
                "INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)",
                (name, key, value),
            )
            _touch(conn, name, now_ms())

        self.write(txn)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a tag from a registered model."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            cur = conn.execute(
                "DELETE FROM registered_model_tags WHERE name = ? AND key = ?", (name, key)
            )
            if cur.rowcount == 0:
                raise ResourceNotFoundError(f"Registered model {name!r} has no tag {key!r}.")
            _touch(conn, name, now_ms())

        self.write(txn)

    # -- model versions ------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        storage_location: str | None = None,
    ) -> ModelVersion:
        """Add the next version of ``name`` (which must exist); numbers are never reused."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> int:
            _require_model(conn, name)
            (version,) = conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?", (name,)
            ).fetchone()
            conn.execute(
                f"INSERT INTO model_versions ({_VERSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, 'None', ?, ?, ?, 'READY', NULL, ?)",
                (name, version, now, now, description, user_id, source, run_id, run_link,
                 storage_location),
            )
            conn.executemany(
                "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
                [(name, version, k, v) for k, v in (tags or {}).items()],
            )
            _touch(conn, name, now)
            return version

        return self.get_model_version(name, self.write(txn))

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version with its tags and aliases."""
        rows = self.query(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions "
            f"WHERE name = ? AND version = ? AND {_LIVE}",
            (name, int(version)),
        )
        if not rows:
            self.get_registered_model(name)  # a missing model says so first
            raise _missing_version(name, version)
        return self._model_version(rows[0])

    def _model_version(self, row: tuple) -> ModelVersion:
        name, version = row[0], row[1]
        tags = dict(self.query(
            "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
            (name, version),
        ))
        aliases = [a for (a,) in self.query(
            "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias",
            (name, version),
        )]
        return ModelVersion(
            name=name, version=str(version), creation_timestamp=row[2],
            last_updated_timestamp=row[3], description=row[4], user_id=row[5],
            current_stage=row[6], source=row[7], run_id=row[8], run_link=row[9],
            status=row[10], status_message=row[11], storage_location=row[12],
            tags=tags, aliases=aliases,
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[ModelVersion], str | None]:
        """Return one page of model versions and the next page's token."""
        where, params = compile_conditions(
            parse_registry_filter(filter_string, versions=True),
            "v", "model_version_tags", "name, version",
        )
        offset = decode_page_token(page_token)
        columns = ", ".join(f"v.{c.strip()}" for c in _VERSION_COLUMNS.split(","))
        rows = self.query(
            f"SELECT {columns} FROM model_versions v WHERE v.{_LIVE} AND {where} "
            f"ORDER BY {compile_order(order_by, True, 'v')} LIMIT ? OFFSET ?",
            [*params, max_results + 1, offset],
        )
        rows, token = split_page(rows, offset, max_results)
        return [self._model_version(r) for r in rows], token

    def update_model_version(self, name: str, version: int, description: str | None) -> ModelVersion:
        """Set a version's description."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_version(conn, name, version)
            conn.execute(
                "UPDATE model_versions SET description = ? WHERE name = ? AND version = ?",
                (description, name, version),
            )
            _touch(conn, name, now_ms(), version)

        self.write(txn)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        """Delete a version: its tags and aliases go, its number is never reused."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> None:
            stage = _require_version(conn, name, version)
            for (alias,) in conn.execute(
                "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ?",
                (name, version),
            ).fetchall():
                _close_label(conn, name, "alias", alias, version, now)
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE name = ? AND version = ?", (name, version)
            )
            conn.execute("DELETE FROM model_version_tags WHERE name = ? AND version = ?", (name, version))
            _set_stage(conn, name, version, stage, "None", now)
            conn.execute(
                "UPDATE model_versions SET current_stage = ?, description = NULL "
                "WHERE name = ? AND version = ?",
                (DELETED, name, version),
            )
            _touch(conn, name, now)

        self.write(txn)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set (or replace) a tag on a version."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_version(conn, name, version)
            conn.execute(
                "INSERT OR REPLACE INTO model_version_tags (name, version, key, value) "
                "VALUES (?, ?, ?, ?)",
                (name, version, key, value),
            )
            _touch(conn, name, now_ms(), version)

        self.write(txn)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """Delete a tag from a version."""

        def txn(conn: sqlite3.Connection) -> None:
            _require_version(conn, name, version)
            cur = conn.execute(
                "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                (name, version, key),
            )
            if cur.rowcount == 0:
                raise ResourceNotFoundError(f"Model {name!r} version {version} has no tag {key!r}.")
            _touch(conn, name, now_ms(), version)

        self.write(txn)

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each stage (all stages when ``stages`` is empty)."""
        rows = self.query(
            f"SELECT current_stage, MAX(version) FROM model_versions WHERE name = ? AND {_LIVE} "
            "GROUP BY current_stage ORDER BY MAX(version)",
            (name,),
        )
        wanted = set(stages) if stages else None
        return [
            self.get_model_version(name, v) for stage, v in rows if wanted is None or stage in wanted
        ]

    # -- stages and aliases --------------------------------------------------
    def transition_model_version_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to ``stage``; optionally archive the others in that stage.

        Raises:
            InvalidParameterError: ``archive_existing_versions`` with a stage
                other than Staging or Production (as MLflow).
        """
        if archive_existing_versions and stage not in ACTIVE_STAGES:
            raise InvalidParameterError(
                "Model version transition cannot archive existing model versions because "
                f"{stage!r} is not an Active stage. Valid stages are {', '.join(ACTIVE_STAGES)}; "
                "pass archive_existing_versions=False for None or Archived."
            )
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> None:
            old = _require_version(conn, name, version)
            if archive_existing_versions:
                for (other,) in conn.execute(
                    "SELECT version FROM model_versions WHERE name = ? AND current_stage = ? "
                    "AND version != ?",
                    (name, stage, version),
                ).fetchall():
                    _set_stage(conn, name, other, stage, "Archived", now)
            if old != stage:
                _set_stage(conn, name, version, old, stage, now)
            _touch(conn, name, now, version)

        self.write(txn)
        return self.get_model_version(name, version)

    def set_registered_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` (moving it if it pointed elsewhere)."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> None:
            _require_version(conn, name, version)
            row = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (name, alias),
            ).fetchone()
            if row is not None and row[0] == version:
                return
            if row is not None:
                _close_label(conn, name, "alias", alias, row[0], now)
            conn.execute(
                "INSERT OR REPLACE INTO registered_model_aliases (name, alias, version) "
                "VALUES (?, ?, ?)",
                (name, alias, version),
            )
            _open_label(conn, name, "alias", alias, version, now)
            _touch(conn, name, now)

        self.write(txn)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        now = now_ms()

        def txn(conn: sqlite3.Connection) -> None:
            _require_model(conn, name)
            row = conn.execute(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                (name, alias),
            ).fetchone()
            if row is None:
                raise ResourceNotFoundError(f"Registered model {name!r} has no alias {alias!r}.")
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?", (name, alias)
            )
            _close_label(conn, name, "alias", alias, row[0], now)
            _touch(conn, name, now)

        self.write(txn)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version ``alias`` points at."""
        rows = self.query(
            "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
            (name, alias),
        )
        if not rows:
            self.get_registered_model(name)
            raise ResourceNotFoundError(
                f"Registered model {name!r} has no alias {alias!r}. Set it with "
                f"set_registered_model_alias({name!r}, {alias!r}, <version>)."
            )
        return self.get_model_version(name, rows[0][0])

    def get_model_label_history(
        self, name: str, kind: str | None = None, label: str | None = None
    ) -> list[ModelLabelChange]:
        """Every span an alias or stage held a version, oldest first."""
        self.get_registered_model(name)
        sql = (
            "SELECT name, kind, label, version, start_time, end_time FROM model_label_history "
            "WHERE name = ?"
        )
        params: list[Any] = [name]
        for column, value in (("kind", kind), ("label", label)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        rows = self.query(sql + " ORDER BY start_time, id", params)
        return [ModelLabelChange(r[0], r[1], r[2], str(r[3]), r[4], r[5]) for r in rows]
