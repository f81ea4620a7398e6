"""The writer's commands: what a log call queues for the background writer to commit.

Each is a small named tuple; the stores match on the type (``SqliteStore`` in one
transaction, ``RestStore`` as ``log-batch`` / ``update`` / ``delete-tag`` calls).
Metric points are not commands: they travel as packed float64 buffers per (run, key).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SetParam", "SetTag", "DeleteTag", "SetStatus", "Op", "describe"]


class SetParam(NamedTuple):
    """Log a param (params never change: another value for the key is a conflict)."""

    run_id: str
    key: str
    value: str


class SetTag(NamedTuple):
    """Set (or overwrite) a run tag; ``mlflow.runName`` renames the run."""

    run_id: str
    key: str
    value: str


class DeleteTag(NamedTuple):
    """Delete a run tag."""

    run_id: str
    key: str


class SetStatus(NamedTuple):
    """End (or change the status of) a run."""

    run_id: str
    status: str
    end_time: int | None


Op = SetParam | SetTag | DeleteTag | SetStatus


def describe(op: Op) -> str:
    """A short text naming a command, for messages about data that could not be stored."""
    what = {SetParam: "param", SetTag: "tag", DeleteTag: "tag deletion", SetStatus: "status"}
    detail = op.status if isinstance(op, SetStatus) else repr(op.key)
    return f"{what[type(op)]} {detail} of run {op.run_id}"
