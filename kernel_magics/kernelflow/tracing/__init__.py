"""Tracing: MLflow 3-compatible traces of LLM calls and of your own code.

Recording (``import kernelflow as kf``)::

    @kf.trace                                   # sync, async, generators, async generators
    def answer(question): ...

    @kf.trace(name="retrieve", span_type=kf.tracing.SpanType.RETRIEVER, attributes={"k": 3})
    def retrieve(q): ...

    with kf.start_span("call-llm", span_type="CHAT_MODEL", attributes={"model": m}) as span:
        span.set_inputs({"messages": messages})
        ...
        span.set_outputs(reply)
        span.set_attribute("mlflow.chat.tokenUsage",
                           {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})
        span.add_event("retry", {"attempt": 2})
        span.set_status("ERROR", "upstream 500")   # an exception in the block does this too

    kf.get_current_active_span()                # the LiveSpan, or None
    kf.update_current_trace(tags={"env": "prod"}, metadata={"user": "ann"})
    kf.get_last_active_trace_id()               # "tr-<32 hex>"

Token usage: set ``mlflow.chat.tokenUsage`` (``input_tokens``/``output_tokens``/
``total_tokens``) and cost ``mlflow.llm.cost`` (``input_cost``/``output_cost``/
``total_cost``, USD) as span attributes; the trace sums them
(``info.token_usage``, ``info.cost``). ``mlflow.llm.model`` and
``mlflow.llm.provider`` name the model.

Where traces go: the active run's experiment (and the run: metadata
``mlflow.sourceRun``), else the current experiment, on the current tracking URI;
:func:`set_destination` overrides both for a process (a server, a Ray replica).
Spans are queued on the async writer and committed in the background;
``kf.flush()`` (and every read below) waits for them.

Across processes (W3C ``traceparent``)::

    httpx.post(url, headers=kf.tracing.context_headers())        # the caller
    with kf.tracing.continue_trace(request.headers):              # the server
        with kf.start_span("handle"): ...

With ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` set (read when the first trace ends),
traces are also exported there as OTLP/JSON, in the background.

Reading: ``kf.search_traces(filter_string="trace.status = 'ERROR'")`` (a DataFrame
like ``mlflow.search_traces``; ``return_type="list"`` for Trace objects),
``kf.get_trace(trace_id)``; on ``kf.Client()``: ``search_traces`` (TraceInfos,
paged), ``get_trace``, ``delete_traces``, ``set_trace_tag``, ``delete_trace_tag``,
``link_traces_to_run``, and assessments: ``log_assessment`` (``log_feedback``,
``log_expectation``), ``get_assessments``, ``delete_assessment``. Filter keys:
``trace.status``, ``trace.name``, ``trace.timestamp_ms``,
``trace.execution_time_ms``, ``trace.run_id``, ``trace.total_tokens``,
``trace.cost``, ``tags.<k>``, ``metadata.<k>``, ``span.name``, ``span.type``,
``span.status``.
"""

from __future__ import annotations

from typing import Any

from .decorator import trace
from .entities import Assessment, Span, Trace, TraceData, TraceInfo
from .export import get_last_active_trace_id, set_destination
from .fluent import get_trace, search_traces
from .propagation import context_headers, continue_trace, parse_traceparent
from .serialize import set_max_field_size
from .spans import (
    LiveSpan,
    SpanStatusCode,
    SpanType,
    get_current_active_span,
    start_span,
    update_current_trace,
)


def log_feedback(trace_id: str, name: str, value: Any = None, **kwargs: Any) -> Assessment:
    """Record feedback on a trace with the current client (see ``Client.log_assessment``)."""
    from ..client import default_client

    return default_client().log_feedback(trace_id, name, value, **kwargs)


def log_expectation(trace_id: str, name: str, value: Any = None, **kwargs: Any) -> Assessment:
    """Record an expectation (ground truth) on a trace (see ``Client.log_assessment``)."""
    from ..client import default_client

    return default_client().log_expectation(trace_id, name, value, **kwargs)


__all__ = [
    "Assessment", "LiveSpan", "Span", "SpanStatusCode", "SpanType", "Trace", "TraceData",
    "TraceInfo", "context_headers", "continue_trace", "get_current_active_span",
    "get_last_active_trace_id", "get_trace", "log_expectation", "log_feedback",
    "parse_traceparent", "search_traces", "set_destination", "set_max_field_size",
    "start_span", "trace", "update_current_trace",
]
