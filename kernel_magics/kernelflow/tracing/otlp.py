"""Export finished traces to an OTLP/HTTP collector too (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``).

Traces are queued and posted as OTLP/JSON by one daemon thread, so the traced
code never waits on the network. Headers come from
``OTEL_EXPORTER_OTLP_TRACES_HEADERS`` (or ``OTEL_EXPORTER_OTLP_HEADERS``),
``key=value`` pairs separated by commas. A failed export is logged once. The
endpoint is read from the environment when the process's first trace ends.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import urllib.request
from typing import Any

from .codec import otlp_json

_log = logging.getLogger("kernelflow.tracing")
_queue: queue.Queue = queue.Queue(maxsize=10_000)
_thread: threading.Thread | None = None
_lock = threading.Lock()
_warned = threading.Event()


def _headers() -> dict[str, str]:
    raw = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
           or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS") or "")
    out = {"Content-Type": "application/json"}
    for pair in raw.split(","):
        if "=" in pair:
            key, value = pair.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _post(endpoint: str, records: list[dict]) -> None:
    body = json.dumps(otlp_json(records)).encode()
    request = urllib.request.Request(endpoint, data=body, headers=_headers(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - the user's endpoint
        resp.read()


def _run() -> None:
    while True:
        endpoint, trace = _queue.get()
        try:
            _post(endpoint, [trace.to_record()])
        except Exception as exc:
            if not _warned.is_set():
                _warned.set()
                _log.warning("kernelflow could not export a trace to %s: %r", endpoint, exc)
        finally:
            _queue.task_done()


def export_otlp(trace: Any, endpoint: str) -> None:
    """Queue a finished trace for the OTLP endpoint (dropped when 10,000 are waiting)."""
    global _thread
    if _thread is None:
        with _lock:
            if _thread is None:
                _thread = threading.Thread(target=_run, name="kernelflow-otlp", daemon=True)
                _thread.start()
    try:
        _queue.put_nowait((endpoint, trace))
    except queue.Full:
        pass


def flush() -> None:
    """Wait until every queued trace has been posted (or has failed)."""
    _queue.join()
