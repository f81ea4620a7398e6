"""Call records, written to the store in batches by one background thread.

A call only appends its record to a queue; the thread commits what has gathered
every quarter second, so recording never slows a request. ``close()`` writes the rest.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

__all__ = ["CallRecorder"]

log = logging.getLogger("kernelflow.gateway")


class CallRecorder:
    """Queues call records and commits them with ``client.record_gateway_calls``.

    Args:
        client: the ``kernelflow.Client`` of the store.
        interval: seconds between commits.
    """

    def __init__(self, client: Any, interval: float = 0.25) -> None:
        self.client = client
        self.interval = interval
        self._queue: queue.SimpleQueue[dict | None] = queue.SimpleQueue()
        self._done = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="kernelflow-gateway-recorder")
        self._thread.start()

    def add(self, record: dict) -> None:
        """Queue one call record (a dict of the store's gateway_calls columns)."""
        self._queue.put(record)

    def _drain(self) -> list[dict]:
        batch = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch
            if item is not None:
                batch.append(item)

    def _write(self) -> None:
        batch = self._drain()
        if not batch:
            return
        try:
            self.client.record_gateway_calls(batch)
            runs: dict[str, list[str]] = {}
            for record in batch:
                if record.get("_run_id") and record.get("trace_id"):
                    runs.setdefault(record["_run_id"], []).append(record["trace_id"])
            for run_id, trace_ids in runs.items():  # calls made from a notebook's run
                self.client.link_traces_to_run(trace_ids, run_id)
        except Exception as exc:  # a full disk must not take the gateway down
            log.warning("kernelflow gateway: could not record %d calls: %s", len(batch), exc)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self._write()
        self._write()

    def flush(self) -> None:
        """Write everything queued so far (from the caller's thread)."""
        self._write()

    def close(self) -> None:
        """Stop the thread after writing the rest."""
        self._done.set()
        self._thread.join(timeout=10)
        self._write()
