"""What the runs side panel shows, read through ``kernelflow.Client`` (no Jupyter here).

Kept apart from the Tornado handlers so it can be read, and tested, as plain Python.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernelflow import Client, Run

KEY_METRICS = 3
MAX_RUNS = 200


class PanelReader:
    """Reads experiments and recent runs of one store for the side panel.

    Args:
        tracking_uri: the store (an absolute ``sqlite:///`` URI or ``http://host:port``).
            A SQLite file that does not exist yet reads as empty; it is not created.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client: Client | None = None
        self._lock = threading.Lock()

    def client(self) -> Client | None:
        """The shared client, or None while the store's SQLite file does not exist."""
        if self._client is None:
            path = _sqlite_path(self.tracking_uri)
            if path is not None and not os.path.exists(path):
                return None
            from kernelflow import Client

            with self._lock:
                if self._client is None:
                    self._client = Client(self.tracking_uri)
        return self._client

    def experiments(self) -> dict[str, Any]:
        """Every active experiment with its run count, and the current one.

        The current experiment is the one whose run started last (where the user is
        working now), else the first experiment that has runs.
        """
        client = self.client()
        if client is None:
            return {"experiments": [], "current": None, "store": self.tracking_uri}
        counts = client.count_runs_by_experiment()
        experiments = [{"id": e.experiment_id, "name": e.name, "runs": counts.get(e.experiment_id, 0)}
                       for e in client.search_experiments(max_results=1000)]
        return {"experiments": experiments, "current": _current(client, experiments),
                "store": self.tracking_uri}

    def runs(self, experiment_id: str, max_results: int = 30) -> dict[str, Any]:
        """The newest runs of one experiment: status, name, times and a few key metrics.

        Args:
            experiment_id: the experiment.
            max_results: how many runs, newest first (1 to 200).

        Raises:
            ResourceNotFoundError: no experiment has this id.
            InvalidParameterError: ``max_results`` out of range.
        """
        from kernelflow import InvalidParameterError

        if not 1 <= max_results <= MAX_RUNS:
            raise InvalidParameterError(
                f"max_results must be from 1 to {MAX_RUNS}, got {max_results}.")
        client = self.client()
        if client is None:
            from kernelflow import ResourceNotFoundError

            raise ResourceNotFoundError(
                f"No experiment with id {experiment_id!r}: the store {self.tracking_uri} has "
                "no runs yet.")
        experiment = client.get_experiment(experiment_id)
        runs = list(client.search_runs([experiment_id], max_results=max_results,
                                       order_by=["attributes.start_time DESC"]))
        keys = key_metrics(runs)
        return {
            "experiment": {"id": experiment.experiment_id, "name": experiment.name},
            "key_metrics": keys,
            "runs": [run_row(r, keys) for r in runs],
            "now": int(time.time() * 1000),
        }


def key_metrics(runs: list[Run], limit: int = KEY_METRICS) -> list[str]:
    """The metrics most runs have (ties by name): the panel's columns."""
    counts = Counter(k for r in runs for k in r.data.metrics)
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def run_row(run: Run, keys: list[str]) -> dict[str, Any]:
    """One run as the panel shows it (JSON-safe: non-finite metrics become strings)."""
    info = run.info
    return {
        "id": info.run_id,
        "name": info.run_name or info.run_id[:8],
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "metrics": {k: _json_number(run.data.metrics[k]) for k in keys if k in run.data.metrics},
    }


def _current(client: Client, experiments: list[dict[str, Any]]) -> str | None:
    with_runs = [e["id"] for e in experiments if e["runs"]]
    if not with_runs:
        return experiments[0]["id"] if experiments else None
    latest = client.search_runs(with_runs, max_results=1, order_by=["attributes.start_time DESC"])
    return latest[0].info.experiment_id if latest else with_runs[0]


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _sqlite_path(uri: str) -> str | None:
    return uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else None
