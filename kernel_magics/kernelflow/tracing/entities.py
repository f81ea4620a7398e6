"""Traces as read back from the store: MLflow 3's ``Trace``, ``TraceInfo``, ``Span``, assessments."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .serialize import from_json


@dataclass
class Span:
    """A finished span read from the store (inputs, outputs and attributes decoded)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    start_time_ns: int
    end_time_ns: int | None
    status: str
    status_message: str = ""
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)

    @property
    def request_id(self) -> str:
        """MLflow 2's name for :attr:`trace_id`."""
        return self.trace_id

    @property
    def duration_ms(self) -> float | None:
        """How long the span took, in milliseconds."""
        if self.end_time_ns is None:
            return None
        return (self.end_time_ns - self.start_time_ns) / 1e6

    def get_attribute(self, key: str) -> Any:
        """An attribute's value, or None."""
        return self.attributes.get(key)

    @classmethod
    def from_row(cls, trace_id: str, row: dict) -> Span:
        """Build a span from its stored dict (JSON text fields)."""
        return cls(
            trace_id=trace_id, span_id=row["span_id"], parent_id=row.get("parent_span_id"),
            name=row["name"], span_type=row.get("span_type") or "UNKNOWN",
            start_time_ns=row["start_time_ns"], end_time_ns=row.get("end_time_ns"),
            status=row.get("status_code") or "UNSET",
            status_message=row.get("status_message") or "",
            inputs=from_json(row.get("inputs")), outputs=from_json(row.get("outputs")),
            attributes=_as(dict, from_json(row.get("attributes")), "attributes"),
            events=_as(list, from_json(row.get("events")), "events"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The span as plain data (decoded values)."""
        return {
            "trace_id": self.trace_id, "span_id": self.span_id, "parent_id": self.parent_id,
            "name": self.name, "span_type": self.span_type,
            "start_time_ns": self.start_time_ns, "end_time_ns": self.end_time_ns,
            "status": self.status, "status_message": self.status_message,
            "inputs": self.inputs, "outputs": self.outputs,
            "attributes": self.attributes, "events": self.events,
        }


def _as(kind: type, value: Any, field: str) -> Any:
    """The decoded field when it has its kind; text that is not (a field cut by an older
    version, or sent so) is kept under one key instead of breaking every reader."""
    if isinstance(value, kind):
        return value
    if not value:
        return kind()
    text = value if isinstance(value, str) else str(value)
    return {"kernelflow.unparsed": text} if kind is dict else [
        {"name": "kernelflow.unparsed", "timestamp": 0, "attributes": {"text": text}}]


@dataclass
class Assessment:
    """Feedback on a trace (a judge's or a person's score) or an expectation (ground truth).

    ``kind`` is ``"feedback"`` or ``"expectation"``; ``value`` any JSON value.
    """

    trace_id: str
    name: str
    kind: str
    value: Any = None
    rationale: str | None = None
    source_type: str = "CODE"
    source_id: str | None = None
    error: dict | None = None
    span_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    assessment_id: str | None = None
    create_time_ms: int | None = None
    last_update_time_ms: int | None = None
    run_id: str | None = None
    valid: bool = True
    overrides: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The assessment as plain data."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class TraceInfo:
    """A trace's summary: id, experiment, timing, state, previews, tags and metadata."""

    trace_id: str
    experiment_id: str
    request_time: int
    execution_duration: int | None
    state: str
    request_preview: str | None = None
    response_preview: str | None = None
    name: str | None = None
    run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trace_metadata: dict[str, str] = field(default_factory=dict)
    assessments: list[Assessment] = field(default_factory=list)
    client_request_id: str | None = None

    @property
    def request_id(self) -> str:
        """MLflow 2's name for :attr:`trace_id`."""
        return self.trace_id

    @property
    def status(self) -> str:
        """MLflow 2's name for :attr:`state`."""
        return self.state

    @property
    def timestamp_ms(self) -> int:
        """When the trace started, ms since the epoch."""
        return self.request_time

    @property
    def execution_time_ms(self) -> int | None:
        """How long the trace took, in ms."""
        return self.execution_duration

    @property
    def token_usage(self) -> dict | None:
        """``{"input_tokens", "output_tokens", "total_tokens"}`` summed over LLM spans, or None."""
        raw = self.trace_metadata.get("mlflow.trace.tokenUsage")
        return json.loads(raw) if raw else None

    @property
    def cost(self) -> dict | None:
        """``{"input_cost", "output_cost", "total_cost"}`` in USD, or None."""
        raw = self.trace_metadata.get("mlflow.trace.cost")
        return json.loads(raw) if raw else None

    def to_dict(self) -> dict[str, Any]:
        """The info as plain data."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["assessments"] = [a.to_dict() for a in self.assessments]
        return out


@dataclass
class TraceData:
    """A trace's spans, in start order."""

    spans: list[Span] = field(default_factory=list)

    @property
    def request(self) -> str | None:
        """The root span's inputs as JSON text."""
        root = self._root()
        return None if root is None else json.dumps(root.inputs)

    @property
    def response(self) -> str | None:
        """The root span's outputs as JSON text."""
        root = self._root()
        return None if root is None else json.dumps(root.outputs)

    def _root(self) -> Span | None:
        ids = {s.span_id for s in self.spans}
        return next((s for s in self.spans if s.parent_id is None or s.parent_id not in ids), None)


@dataclass
class Trace:
    """A trace: its :class:`TraceInfo` and its :class:`TraceData` (spans)."""

    info: TraceInfo
    data: TraceData

    def search_spans(self, name: str | None = None, span_type: str | None = None) -> list[Span]:
        """Spans with this name and/or type."""
        return [s for s in self.data.spans
                if (name is None or s.name == name) and (span_type is None or s.span_type == span_type)]

    def to_dict(self) -> dict[str, Any]:
        """The trace as plain data."""
        return {"info": self.info.to_dict(), "data": {"spans": [s.to_dict() for s in self.data.spans]}}

    def _repr_html_(self) -> str:
        from .display import trace_html

        return trace_html([self])


def trace_from_record(record: dict) -> Trace:
    """A :class:`Trace` from a stored-shape record (what the writer and the REST API carry)."""
    meta = dict(record.get("metadata") or {})
    info = TraceInfo(
        trace_id=record["trace_id"], experiment_id=str(record.get("experiment_id") or "0"),
        request_time=record["request_time"], execution_duration=record.get("execution_time"),
        state=record.get("state") or "OK", request_preview=record.get("request_preview"),
        response_preview=record.get("response_preview"), name=record.get("name"),
        run_id=record.get("run_id"), tags=dict(record.get("tags") or {}), trace_metadata=meta,
        client_request_id=meta.get("mlflow.clientRequestId"))
    spans = [Span.from_row(info.trace_id, s) for s in record.get("spans") or ()]
    spans.sort(key=lambda s: s.start_time_ns)
    return Trace(info=info, data=TraceData(spans=spans))
