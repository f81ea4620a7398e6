"""Live spans: creating, nesting and ending them (the hot path).

A span is a plain object with ``__slots__``; the active one lives in a
``ContextVar`` so nesting follows threads and asyncio tasks. Ending a span only
appends it to its trace's list; when the local root ends, the whole trace goes
to the exporter (:mod:`kernelflow.tracing.export`), which queues it on the
async writer. Nothing here touches SQLite, and nothing here may raise into the
user's code because of tracing itself.
"""

from __future__ import annotations

import contextvars
import random
import time
import traceback
from typing import Any

from .serialize import events_to_json, mapping_to_json, to_json

_CURRENT: contextvars.ContextVar[Any] = contextvars.ContextVar("kernelflow_span", default=None)
_rand = random.Random()  # ids only need to be unique, not secret
_time_ns = time.time_ns
# Set by kernelflow.tracing.export at import: called with a trace when its local root ends.
_exporter: Any = None
_late_exporter: Any = None  # called with (trace, span) for a span ending after its root


class SpanType:
    """MLflow's span types (any string is accepted; these are the known ones)."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    EMBEDDING = "EMBEDDING"
    RETRIEVER = "RETRIEVER"
    PARSER = "PARSER"
    RERANKER = "RERANKER"
    MEMORY = "MEMORY"
    UNKNOWN = "UNKNOWN"


class SpanStatusCode:
    """A span's status: ``OK``, ``ERROR`` or ``UNSET`` (still running, or never said)."""

    OK = "OK"
    ERROR = "ERROR"
    UNSET = "UNSET"


class TraceState:
    """One trace as this process sees it: the spans made here, tags and metadata.

    When a trace continues one started elsewhere (``continue_trace``), ``remote_parent``
    is the caller's span id and the trace's info belongs to the caller: this process
    only adds its spans (and fills in the info if the caller has not written it yet).
    """

    __slots__ = ("otel_trace_id", "spans", "tags", "metadata", "remote_parent", "root",
                 "experiment_id", "run_id", "cell", "exported", "overrides", "__weakref__")

    def __init__(self, otel_trace_id: int, remote_parent: int | None = None) -> None:
        self.otel_trace_id = otel_trace_id
        self.spans: list[LiveSpan] = []
        self.tags: dict[str, str] = {}
        self.metadata: dict[str, str] = {}
        self.remote_parent = remote_parent
        self.root: LiveSpan | None = None
        self.experiment_id: str | None = None
        self.run_id: str | None = None
        self.cell: tuple | None = None
        self.exported = False  # the root ended: later spans (a stream read on) go on their own
        self.overrides: dict[str, str] | None = None  # request/response preview, state

    @property
    def trace_id(self) -> str:
        """MLflow 3's trace id: ``tr-`` and the 32 hex digits of the OpenTelemetry trace id."""
        return f"tr-{self.otel_trace_id:032x}"

    def to_record(self, with_spans: bool = True) -> dict[str, Any]:
        """The trace as plain data for the store (called by the writer thread).

        With ``with_spans=False`` the record's ``spans`` is empty: the SQLite store
        takes them from :meth:`span_rows` instead (no dict per span).
        """
        from .export import trace_record

        return trace_record(self, with_spans)

    def span_rows(self) -> list[tuple]:
        """The finished spans as rows of the store's ``spans`` table."""
        trace_id = self.trace_id
        return [s.to_row(trace_id) for s in self.spans]


class LiveSpan:
    """A span being recorded. Use it as a context manager, or call :meth:`end`.

    Returned by :func:`kernelflow.start_span` and :func:`get_current_active_span`.
    """

    __slots__ = ("name", "span_type", "_id", "_parent", "_trace", "start_time_ns",
                 "end_time_ns", "status", "status_message", "inputs", "outputs",
                 "attributes", "events", "_token")

    def __init__(self, name: str, span_type: str, trace: TraceState, parent: int | None,
                 attributes: dict | None = None) -> None:
        self.name = name
        self.span_type = span_type
        self._id = _rand.getrandbits(64) or 1
        self._parent = parent
        self._trace = trace
        self.status = SpanStatusCode.UNSET
        self.status_message = ""
        self.inputs: str | None = None
        self.outputs: str | None = None
        self.attributes: dict[str, Any] = dict(attributes) if attributes else {}
        # An empty tuple until the first event: a list per span would be one more object for
        # the garbage collector to walk, over every span queued for the writer.
        self.events: list[dict] | tuple = ()
        self.end_time_ns: int | None = None
        self._token: Any = None
        self.start_time_ns = _time_ns()

    # -- identity ---------------------------------------------------------------
    @property
    def trace_id(self) -> str:
        """The trace's id, ``tr-`` + 32 hex digits."""
        return self._trace.trace_id

    @property
    def request_id(self) -> str:
        """MLflow 2's name for :attr:`trace_id`."""
        return self._trace.trace_id

    @property
    def span_id(self) -> str:
        """The OpenTelemetry span id, 16 hex digits."""
        return f"{self._id:016x}"

    @property
    def parent_id(self) -> str | None:
        """The parent span's id (16 hex digits), or None for a root span."""
        return None if self._parent is None else f"{self._parent:016x}"

    # -- recording --------------------------------------------------------------
    def set_inputs(self, inputs: Any) -> None:
        """Record the span's inputs (stored as JSON; ``repr`` for what JSON cannot hold)."""
        self.inputs = "{}" if type(inputs) is dict and not inputs else to_json(inputs)

    def set_outputs(self, outputs: Any) -> None:
        """Record the span's outputs."""
        self.outputs = to_json(outputs)

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute."""
        self.attributes[str(key)] = value

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        """Set several attributes."""
        for key, value in attributes.items():
            self.attributes[str(key)] = value

    def get_attribute(self, key: str) -> Any:
        """An attribute's value, or None."""
        return self.attributes.get(key)

    def add_event(self, event: Any, attributes: dict | None = None,
                  timestamp: int | None = None) -> None:
        """Add an event: a name (with ``attributes``) or an object with ``name``/``attributes``.

        Args:
            event: the event's name, or an MLflow-style ``SpanEvent``.
            attributes: the event's attributes.
            timestamp: nanoseconds since the epoch; now by default.
        """
        if not isinstance(event, str):
            attributes = getattr(event, "attributes", None) or attributes
            timestamp = getattr(event, "timestamp", None) or timestamp
            event = getattr(event, "name", str(event))
        self._event_list().append({"name": event, "timestamp": timestamp or _time_ns(),
                                   "attributes": dict(attributes or {})})

    def _event_list(self) -> list[dict]:
        if not isinstance(self.events, list):
            self.events = []
        return self.events

    def set_status(self, status: Any, description: str | None = None) -> None:
        """Set the status: ``"OK"``, ``"ERROR"`` (or an object with ``status_code``)."""
        code = getattr(status, "status_code", status)
        code = getattr(code, "value", code)  # enums
        description = description or getattr(status, "description", None) or ""
        code = str(code).upper().replace("STATUSCODE.", "")
        if code not in (SpanStatusCode.OK, SpanStatusCode.ERROR, SpanStatusCode.UNSET):
            from ..errors import InvalidParameterError

            raise InvalidParameterError(f"Span status {status!r} is not one of OK, ERROR, UNSET.")
        self.status = code
        self.status_message = description

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span ERROR and add an ``exception`` event with type, message and stack."""
        self.status = SpanStatusCode.ERROR
        self.status_message = f"{type(exc).__name__}: {exc}"
        self._event_list().append({
            "name": "exception", "timestamp": _time_ns(),
            "attributes": {
                "exception.type": type(exc).__name__,
                "exception.message": str(exc),
                "exception.stacktrace": "".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__)),
                "exception.escaped": "False",
            },
        })

    # -- ending -----------------------------------------------------------------
    def end(self, outputs: Any = None, attributes: dict | None = None,
            status: Any = None, end_time_ns: int | None = None) -> None:
        """End the span (only the first call counts); a root span sends its trace off."""
        if self.end_time_ns is not None:
            return
        if outputs is not None:
            self.set_outputs(outputs)
        if attributes:
            self.set_attributes(attributes)
        if status is not None:
            self.set_status(status)
        if self.status == SpanStatusCode.UNSET:
            self.status = SpanStatusCode.OK
        self.end_time_ns = end_time_ns or _time_ns()
        trace = self._trace
        if trace.root is self:
            trace.spans.append(self)
            _exporter(trace)
        elif trace.exported:
            _late_exporter(trace, self)
        else:
            trace.spans.append(self)

    def __enter__(self) -> LiveSpan:
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.record_exception(exc)
        if self._token is not None:
            try:
                _CURRENT.reset(self._token)
            except ValueError:  # exited in another context (a generator closed elsewhere)
                _CURRENT.set(None)
            self._token = None
        self.end()  # returns None: the exception, if any, goes on unchanged

    def to_row(self, trace_id: str) -> tuple:
        """The span as a row of the store's ``spans`` table (``SPAN_COLUMNS`` order)."""
        parent = self._parent
        return (trace_id, f"{self._id:016x}", None if parent is None else f"{parent:016x}",
                self.name, self.span_type, self.start_time_ns, self.end_time_ns, self.status,
                self.status_message, self.inputs, self.outputs,
                mapping_to_json(self.attributes) if self.attributes else "{}",
                events_to_json(self.events) if self.events else "[]")

    def to_dict(self) -> dict[str, Any]:
        """The span as a plain dict (the stored shape; inputs/outputs/attributes as JSON text)."""
        parent = self._parent
        return {
            "span_id": f"{self._id:016x}",
            "parent_span_id": None if parent is None else f"{parent:016x}",
            "name": self.name,
            "span_type": self.span_type,
            "start_time_ns": self.start_time_ns,
            "end_time_ns": self.end_time_ns,
            "status_code": self.status,
            "status_message": self.status_message,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "attributes": mapping_to_json(self.attributes) if self.attributes else "{}",
            "events": events_to_json(self.events) if self.events else "[]",
        }

    def __repr__(self) -> str:
        return f"LiveSpan(name={self.name!r}, span_id={self.span_id!r}, trace_id={self.trace_id!r})"


class RemoteParent:
    """Stands for a caller's span (from a ``traceparent`` header) while a server handles it."""

    __slots__ = ("otel_trace_id", "span_id_int", "sampled")

    def __init__(self, otel_trace_id: int, span_id_int: int, sampled: bool = True) -> None:
        self.otel_trace_id = otel_trace_id
        self.span_id_int = span_id_int
        self.sampled = sampled


def new_span(name: str, span_type: str = SpanType.UNKNOWN,
             attributes: dict | None = None) -> LiveSpan:
    """Make a span, child of the active one (or the root of a new trace); not yet active."""
    parent = _CURRENT.get()
    if parent is None:
        trace = TraceState(_rand.getrandbits(128) or 1)
        span = LiveSpan(name, span_type, trace, None, attributes)
        trace.root = span
    elif type(parent) is RemoteParent:
        trace = TraceState(parent.otel_trace_id, parent.span_id_int)
        span = LiveSpan(name, span_type, trace, parent.span_id_int, attributes)
        trace.root = span
    else:
        span = LiveSpan(name, span_type, parent._trace, parent._id, attributes)
    return span


def start_span(name: str = "span", span_type: str = SpanType.UNKNOWN,
               attributes: dict[str, Any] | None = None) -> LiveSpan:
    """Open a span as a context manager: ``with kf.start_span("step") as span: ...``.

    The span is a child of the active span, or the root of a new trace. An
    exception inside the block marks it ERROR (with an ``exception`` event) and
    goes on unchanged.

    Args:
        name: the span's name.
        span_type: one of :class:`SpanType` (e.g. ``"TOOL"``), or any string.
        attributes: initial attributes.
    """
    return new_span(str(name), span_type, attributes)


def get_current_active_span() -> LiveSpan | None:
    """The span active in this thread or task, or None."""
    span = _CURRENT.get()
    return None if type(span) is RemoteParent else span


def current_trace() -> TraceState | None:
    """The trace of the active span, or None."""
    span = _CURRENT.get()
    return None if span is None or type(span) is RemoteParent else span._trace


def update_current_trace(tags: dict[str, Any] | None = None,
                         metadata: dict[str, Any] | None = None,
                         client_request_id: str | None = None,
                         request_preview: str | None = None,
                         response_preview: str | None = None,
                         state: Any = None,
                         model_id: str | None = None,
                         session_id: str | None = None,
                         user: str | None = None) -> None:
    """Add tags and metadata to the trace of the active span (MLflow's arguments).

    Outside any span this logs a warning and does nothing, as MLflow does.

    Args:
        tags: mutable key/value labels (searchable as ``tags.key``).
        metadata: immutable key/value facts (searchable as ``metadata.key``).
        client_request_id: your own id for the request (stored as metadata).
        request_preview: the text shown as the trace's request (instead of the root's inputs).
        response_preview: the text shown as the trace's response.
        state: ``"OK"`` or ``"ERROR"``: the trace's state, whatever the root span's status.
        model_id: the logged model the trace belongs to (``mlflow.modelId``).
        session_id: the conversation or session (``mlflow.trace.session``).
        user: the end user (``mlflow.trace.user``).

    Raises:
        InvalidParameterError: a preview that is not a string, or a state not OK / ERROR.
    """
    from ..errors import InvalidParameterError

    for field, value in (("request_preview", request_preview),
                         ("response_preview", response_preview)):
        if value is not None and not isinstance(value, str):
            raise InvalidParameterError(f"The `{field}` parameter must be a string.")
    if state is not None:
        state = str(getattr(state, "value", state)).upper().replace("TRACESTATE.", "")
        if state not in ("OK", "ERROR"):
            raise InvalidParameterError(f"State must be either 'OK' or 'ERROR', but got "
                                        f"{state!r}.")
    trace = current_trace()
    if trace is None:
        import logging

        logging.getLogger("kernelflow.tracing").warning(
            "No active trace found: call update_current_trace() inside a function decorated "
            "with @kernelflow.trace or a `with kernelflow.start_span(...)` block.")
        return
    for key, value in (tags or {}).items():  # stringified as MLflow does: True -> "True"
        trace.tags[str(key)] = str(value)
    for key, value in (metadata or {}).items():
        trace.metadata[str(key)] = str(value)
    for key, value in (("mlflow.trace.session", session_id), ("mlflow.trace.user", user),
                       ("mlflow.modelId", model_id)):
        if value:
            trace.metadata[key] = str(value)
    if client_request_id is not None:
        trace.metadata["mlflow.clientRequestId"] = str(client_request_id)
    changes = {k: v for k, v in (("request_preview", request_preview),
                                 ("response_preview", response_preview),
                                 ("state", state)) if v}
    if changes:
        trace.overrides = {**(trace.overrides or {}), **changes}
