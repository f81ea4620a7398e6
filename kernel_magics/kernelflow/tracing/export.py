"""Where finished traces go: the async writer of the tracking store (and OTLP, if asked).

:func:`export_trace` runs when a trace's local root span ends. It notes the
experiment, the active run and the notebook cell, and queues the trace on the
writer; the writer thread turns it into rows (:meth:`TraceState.to_record` is
called there, off the hot path). A failure here is logged, never raised: the
traced function always goes on.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from . import spans as _spans
from .serialize import from_json, preview
from .spans import SpanStatusCode, TraceState

_log = logging.getLogger("kernelflow.tracing")
_last_trace: TraceState | None = None
_destination: dict[str, Any] = {}
_warned = threading.Event()
# Traces ended during the running cell, for the under-cell display (tracing.notebook).
cell_traces: list[TraceState] = []
_collect_cell = False
current_cell: list = []  # [cell id] of the running cell, set by the pre_run_cell hook

TOKEN_USAGE_ATTR = "mlflow.chat.tokenUsage"
COST_ATTR = "mlflow.llm.cost"
TRACE_TOKEN_USAGE = "mlflow.trace.tokenUsage"
TRACE_COST = "mlflow.trace.cost"
SOURCE_RUN = "mlflow.sourceRun"
TRACE_NAME = "mlflow.traceName"
CELL_COUNT = "kernelflow.cell.execution_count"
CELL_ID = "kernelflow.cell.id"


def set_destination(experiment_id: str | None = None, tracking_uri: str | None = None) -> None:
    """Send the traces of this process to an experiment and/or tracking URI.

    Without a destination, a trace goes to the active run's experiment, else the
    current experiment (``kf.set_experiment``), on the current tracking URI.
    Call with no arguments to go back to that default.
    """
    _destination.clear()
    if experiment_id is not None:
        _destination["experiment_id"] = str(experiment_id)
    if tracking_uri is not None:
        _destination["tracking_uri"] = tracking_uri


def collect_cell_traces(on: bool) -> None:
    """Keep (or stop keeping) the traces of the running cell for the under-cell display."""
    global _collect_cell
    _collect_cell = on
    if not on:
        cell_traces.clear()


def get_last_active_trace_id(thread_local: bool = False) -> str | None:
    """The id of the last trace that ended in this process, or None."""
    trace = _last_trace
    return None if trace is None else trace.trace_id


def _cell() -> tuple | None:
    """(execution count, cell id) of the running cell, or None outside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    # IPython counts the cell before running it: the running cell is execution_count - 1.
    count = getattr(shell, "execution_count", None)
    count = count - 1 if isinstance(count, int) and count > 1 else count
    cell_id = current_cell[0] if current_cell else None
    if cell_id is None:
        header = getattr(shell, "parent_header", None) or {}
        cell_id = (header.get("metadata") or {}).get("cellId")
    return count, cell_id


_fluent: Any = None  # kernelflow.fluent and client.default_client, imported on first use
_default_client: Any = None
_otlp: list = []  # [endpoint or None], read from the environment once


def _bind(trace: TraceState) -> Any:
    """Fill in the trace's run, experiment and cell; return the writer to queue it on.

    Without a run or a destination the experiment is left for :func:`trace_record` to
    resolve in the writer thread (it may read the environment or the store).
    """
    global _fluent, _default_client
    if _fluent is None:
        from .. import fluent as _fluent
        from ..client import default_client as _default_client
    runs = _fluent._active_runs
    if runs:
        info = runs[-1].info
        trace.run_id = info.run_id
        trace.experiment_id = info.experiment_id
    if _destination:
        trace.experiment_id = _destination.get("experiment_id", trace.experiment_id)
        if uri := _destination.get("tracking_uri"):
            from ..client import get_store

            return get_store(uri).writer
    elif trace.experiment_id is None:
        trace.experiment_id = _fluent._active_experiment_id
    if "IPython" in sys.modules:
        trace.cell = _cell()
    return _default_client()._writer


def export_trace(trace: TraceState) -> None:
    """Queue a finished trace for writing (called when its local root span ends)."""
    global _last_trace
    _last_trace = trace
    trace.exported = True
    if _collect_cell and len(cell_traces) < 1000:
        cell_traces.append(trace)
    try:
        writer = _bind(trace)
        writer.add_traces([trace])
        if not _otlp:
            _otlp.append(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        if _otlp[0]:
            from .otlp import export_otlp

            export_otlp(trace, _otlp[0])
    except Exception as exc:  # tracing never breaks the traced code
        if not _warned.is_set():
            _warned.set()
            _log.warning("kernelflow could not record trace %s: %r", trace.trace_id, exc)


def flush_otlp() -> None:
    """Wait until traces queued for the OTLP endpoint have been sent."""
    if "kernelflow.tracing.otlp" in sys.modules:
        sys.modules["kernelflow.tracing.otlp"].flush()


def _sum_usage(spans: list, attr: str, keys: tuple[str, ...]) -> dict | None:
    total: dict[str, float] = {}
    for span in spans:
        usage = span.attributes.get(attr)
        if isinstance(usage, str):
            usage = from_json(usage)
        if isinstance(usage, dict):
            for key in keys:
                value = usage.get(key)
                if isinstance(value, (int, float)):
                    total[key] = total.get(key, 0) + value
    return total or None


def trace_record(trace: TraceState, with_spans: bool = True) -> dict[str, Any]:
    """The stored shape of a finished trace: its info and its spans as plain data."""
    import json

    root = trace.root
    assert root is not None and root.end_time_ns is not None
    if trace.experiment_id is None:
        from ..fluent import _current_experiment_id

        trace.experiment_id = _current_experiment_id()
    spans = list(trace.spans)
    metadata = {"mlflow.trace_schema.version": "3", **trace.metadata}
    if trace.run_id:
        metadata[SOURCE_RUN] = trace.run_id
    if trace.cell:
        count, cell_id = trace.cell
        if count is not None:
            metadata[CELL_COUNT] = str(count)
        if cell_id:
            metadata[CELL_ID] = str(cell_id)
    with_attrs = [s for s in spans if s.attributes]
    tokens = _sum_usage(with_attrs, TOKEN_USAGE_ATTR,
                        ("input_tokens", "output_tokens", "total_tokens"))
    if tokens:
        tokens = {k: int(v) for k, v in tokens.items()}
        metadata[TRACE_TOKEN_USAGE] = json.dumps(tokens)
    cost = _sum_usage(with_attrs, COST_ATTR, ("input_cost", "output_cost", "total_cost"))
    if cost:
        metadata[TRACE_COST] = json.dumps(cost)
    start = root.start_time_ns
    overrides = trace.overrides or {}
    return {
        "trace_id": trace.trace_id,
        "experiment_id": str(trace.experiment_id if trace.experiment_id is not None else "0"),
        "request_time": start // 1_000_000,
        "execution_time": (root.end_time_ns - start) // 1_000_000,
        "state": overrides.get("state")
        or ("ERROR" if root.status == SpanStatusCode.ERROR else "OK"),
        "request_preview": preview(overrides.get("request_preview") or root.inputs),
        "response_preview": preview(overrides.get("response_preview") or root.outputs),
        "name": root.name,
        "run_id": trace.run_id,
        "is_root": trace.remote_parent is None,
        "tags": {TRACE_NAME: root.name, **trace.tags},
        "metadata": metadata,
        "spans": [s.to_dict() for s in spans] if with_spans else [],
    }


class LateSpan:
    """A span that ended after its trace's root did (a stream read after the call returned).

    Written on its own as a part of the trace: its span and its tokens are added.
    """

    def __init__(self, trace: TraceState, span: Any) -> None:
        self.trace, self.span = trace, span

    @property
    def trace_id(self) -> str:
        return self.trace.trace_id

    def to_record(self) -> dict[str, Any]:
        import json

        span, meta = self.span, {}
        usage = span.attributes.get(TOKEN_USAGE_ATTR)
        if isinstance(usage, dict):
            meta[TRACE_TOKEN_USAGE] = json.dumps(usage)
        cost = span.attributes.get(COST_ATTR)
        if isinstance(cost, dict):
            meta[TRACE_COST] = json.dumps(cost)
        return {"trace_id": self.trace.trace_id,
                "experiment_id": str(self.trace.experiment_id or "0"),
                "request_time": span.start_time_ns // 1_000_000, "execution_time": None,
                "state": "IN_PROGRESS", "is_root": False, "tags": {}, "metadata": meta,
                "spans": [span.to_dict()]}


def export_late_span(trace: TraceState, span: Any) -> None:
    """Queue a span that ended after its trace was sent."""
    try:
        _bind_writer(trace).add_traces([LateSpan(trace, span)])
    except Exception as exc:  # tracing never breaks the traced code
        _log.warning("kernelflow could not record span %s: %r", span.name, exc)


def _bind_writer(trace: TraceState) -> Any:
    uri = _destination.get("tracking_uri")
    if uri:
        from ..client import get_store

        return get_store(uri).writer
    from ..client import default_client

    return default_client()._writer


_spans._exporter = export_trace
_spans._late_exporter = export_late_span
