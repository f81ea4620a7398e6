"""Served models (``kernelflow serve``): one row per deployment, and all their SQL.

A deployment is recorded by the process that starts it (status ``STARTING``, then
``RUNNING`` or ``FAILED`` with the reason) and updated by its replicas when an alias it
follows moves to another version. The dashboard and ``kernelflow deployments`` read
these rows; they never talk to Ray.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import InvalidParameterError, ResourceNotFoundError
from .base import StoreBase, now_ms

STATUSES = ("STARTING", "RUNNING", "UPDATING", "FAILED", "STOPPED")
MAX_NAME = 256


@dataclass
class Deployment:
    """A served model as the store records it.

    Attributes:
        name: the deployment's name (unique in the store).
        model_uri: what was asked for, e.g. ``models:/digits@champion``.
        model_name: the registered model's name (None for a path or run URI).
        model_version: the version being served now.
        alias: the alias (or stage) the deployment follows, if any.
        url: the base URL; ``{url}/invocations`` scores.
        status: STARTING, RUNNING, UPDATING, FAILED or STOPPED.
        replicas: the number of replicas (or ``min:max`` when autoscaling, as text).
        created_time: when it was first recorded (ms since the epoch).
        updated_time: the last change (ms since the epoch).
        last_error: why it failed, or the last error a swap met.
        host: the machine that started it.
        pid: the process that started it (``kernelflow serve --stop`` signals it).
        ray_address: the Ray cluster it runs on (``None`` for a local Ray).
        config: the serving options, as JSON text.
    """

    name: str
    model_uri: str
    model_name: str | None = None
    model_version: str | None = None
    alias: str | None = None
    url: str | None = None
    status: str = "STARTING"
    replicas: str | None = None
    created_time: int | None = None
    updated_time: int | None = None
    last_error: str | None = None
    host: str | None = None
    pid: int | None = None
    ray_address: str | None = None
    config: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The deployment as a plain dict."""
        return asdict(self)


_COLUMNS = tuple(f.name for f in fields(Deployment))
_UPDATABLE = frozenset(_COLUMNS) - {"name", "created_time"}


def _check(name: Any, fields_: dict[str, Any]) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidParameterError(
            f"A deployment name must be a non-empty string of at most {MAX_NAME} characters, "
            f"not {name!r}."
        )
    unknown = sorted(set(fields_) - _UPDATABLE)
    if unknown:
        raise InvalidParameterError(
            f"Unknown deployment field {unknown[0]!r}; the fields are {sorted(_UPDATABLE)}."
        )
    status = fields_.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidParameterError(
            f"Deployment status {status!r} is not one of {', '.join(STATUSES)}."
        )


def _row(row: tuple) -> Deployment:
    values = dict(zip(_COLUMNS, row, strict=True))
    if values["model_version"] is not None:
        values["model_version"] = str(values["model_version"])
    return Deployment(**values)


class DeploymentStore(StoreBase):
    """The ``deployments`` table (schema version 9)."""

    def record_deployment(self, name: str, model_uri: str | None = None,
                          **fields_: Any) -> Deployment:
        """Insert a deployment, or update the given fields of an existing one.

        Raises:
            InvalidParameterError: a bad name, an unknown field or status, or a new
                deployment without a model URI.
        """
        _check(name, fields_)
        if model_uri is not None:
            fields_["model_uri"] = str(model_uri)
        for key in ("model_version", "replicas"):
            if fields_.get(key) is not None:
                fields_[key] = str(fields_[key])
        now = now_ms()

        def write(conn: sqlite3.Connection) -> None:
            exists = conn.execute("SELECT 1 FROM deployments WHERE name = ?", [name]).fetchone()
            values = {**fields_, "updated_time": fields_.get("updated_time") or now}
            if exists:
                sets = ", ".join(f"{k} = ?" for k in values)
                conn.execute(f"UPDATE deployments SET {sets} WHERE name = ?",
                             [*values.values(), name])
                return
            if not values.get("model_uri"):
                raise InvalidParameterError(
                    f"Deployment {name!r} is new: give the model URI it serves."
                )
            values = {"status": "STARTING", **values, "name": name, "created_time": now}
            cols = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            conn.execute(f"INSERT INTO deployments ({cols}) VALUES ({marks})",
                         list(values.values()))

        self.write(write)
        return self.get_deployment(name)

    def get_deployment(self, name: str) -> Deployment:
        """Return one deployment.

        Raises:
            ResourceNotFoundError: no deployment has this name (the message lists those that do).
        """
        rows = self.query(
            f"SELECT {', '.join(_COLUMNS)} FROM deployments WHERE name = ?", [name]
        )
        if not rows:
            known = [d.name for d in self.list_deployments()]
            listed = ", ".join(known[:20]) if known else "none are recorded"
            raise ResourceNotFoundError(f"No deployment named {name!r}; known: {listed}.")
        return _row(rows[0])

    def list_deployments(self) -> list[Deployment]:
        """Every recorded deployment, the most recently updated first."""
        rows = self.query(
            f"SELECT {', '.join(_COLUMNS)} FROM deployments ORDER BY updated_time DESC, name"
        )
        return [_row(r) for r in rows]

    def delete_deployment(self, name: str) -> None:
        """Forget a deployment.

        Raises:
            ResourceNotFoundError: no deployment has this name.
        """
        self.get_deployment(name)
        self.write(
            lambda conn: conn.execute("DELETE FROM deployments WHERE name = ?", [name])
        )


def create_table(db: Any) -> None:
    """Schema migration 9: the ``deployments`` table."""
    db.table("deployments").create(
        {"name": str, "model_uri": str, "model_name": str, "model_version": str, "alias": str,
         "url": str, "status": str, "replicas": str, "created_time": int, "updated_time": int,
         "last_error": str, "host": str, "pid": int, "ray_address": str, "config": str},
        pk="name",
        not_null={"model_uri", "status"},
    )
    db.table("deployments").create_index(["model_name", "model_version"])
