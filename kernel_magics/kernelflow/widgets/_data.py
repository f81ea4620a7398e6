"""Reads for widgets: committed data only, never a flush from a widget thread.

``Client.get_metric_history`` flushes the writer first; a flush from the chart
thread would raise (and so swallow) a logging error meant for the user's cell.
The writer commits every 100 ms anyway, so charts read what is committed, through
the Client's public no-flush reads.
"""

from __future__ import annotations

from ..client import Client, default_client
from ..entities import MetricHistory, RunInfo


def client(c: Client | None = None) -> Client:
    """The given client, or the default one for the current tracking URI."""
    return c if c is not None else default_client()


def metric_keys(c: Client, run_id: str) -> list[str]:
    """Keys of the metrics a run has committed so far."""
    return c.get_metric_keys(run_id)


def history(c: Client, run_id: str, key: str) -> MetricHistory:
    """Committed points of one metric of a run."""
    return c.read_metric_history(run_id, key)


def run_info(c: Client, run_id: str) -> RunInfo:
    """A run's info (status, name, times) without flushing."""
    return c.get_run_info(run_id)
