"""Trace shapes on the wire: MLflow 3's JSON (trace info, assessments, spans) and OTLP.

One module encodes and decodes them, for the REST server and the HTTP store alike:

- :func:`info_to_json` / :func:`record_from_mlflow_info`: MLflow's ``TraceInfoV3``.
- :func:`span_to_otel_json`: a stored span as MLflow's ``Trace`` proto spans
  (OpenTelemetry ``Span``, proto3 JSON: ids in base64, attributes as ``AnyValue``).
- :func:`records_from_otlp`: an OTLP ``ExportTraceServiceRequest`` (protobuf
  bytes or OTLP/JSON) as trace records for :meth:`Client.log_trace_records`.
- :func:`assessment_to_json` / :func:`assessment_from_json`: MLflow's ``Assessment``.
- :func:`otlp_json`: records as OTLP/JSON, for exporting to an OTLP collector.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from .entities import Assessment, Span, Trace, TraceInfo
from .serialize import events_to_json, mapping_to_json, preview, to_json

SPANS_LOCATION = "mlflow.trace.spansLocation"
_MLFLOW_ATTRS = {"mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.spanType",
                 "mlflow.traceRequestId"}
_STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR", "STATUS_CODE_UNSET": "UNSET",
                 "STATUS_CODE_OK": "OK", "STATUS_CODE_ERROR": "ERROR"}
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)s$")


# -- times ---------------------------------------------------------------------------
def ms_to_timestamp(ms: int) -> str:
    """Milliseconds since the epoch as protobuf's JSON ``Timestamp`` (RFC 3339, UTC)."""
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def timestamp_to_ms(value: Any) -> int | None:
    """protobuf's JSON ``Timestamp`` (or a number of ms) as milliseconds since the epoch."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):  # {"seconds": .., "nanos": ..}
        return int(value.get("seconds", 0)) * 1000 + int(value.get("nanos", 0)) // 1_000_000
    text = str(value)
    if text.isdigit():
        return int(text)
    frac = "0"
    if "." in text:
        text, rest = text.split(".", 1)
        digits = re.match(r"\d*", rest)
        frac = (digits.group() if digits else "") or "0"
        text += rest[len(frac):]
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3].ljust(3, "0"))


def duration_to_ms(value: Any) -> int | None:
    """protobuf's JSON ``Duration`` (``"0.188s"``) as milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):
        return int(value.get("seconds", 0)) * 1000 + int(value.get("nanos", 0)) // 1_000_000
    m = _DURATION.match(str(value))
    return int(round(float(m.group(1)) * 1000)) if m else None


# -- trace info ------------------------------------------------------------------------
def info_to_json(info: TraceInfo) -> dict[str, Any]:
    """A trace info as MLflow's ``TraceInfoV3`` JSON."""
    out: dict[str, Any] = {
        "trace_id": info.trace_id,
        "trace_location": {"type": "MLFLOW_EXPERIMENT",
                           "mlflow_experiment": {"experiment_id": str(info.experiment_id)}},
        "request_time": ms_to_timestamp(info.request_time),
        "state": info.state,
        "trace_metadata": dict(info.trace_metadata),
        "tags": {**info.tags, SPANS_LOCATION: "TRACKING_STORE"},
    }
    if info.execution_duration is not None:
        out["execution_duration"] = f"{info.execution_duration / 1000:.3f}s"
    for key in ("request_preview", "response_preview", "client_request_id"):
        if getattr(info, key) is not None:
            out[key] = getattr(info, key)
    if info.assessments:
        out["assessments"] = [assessment_to_json(a) for a in info.assessments]
    return out


def record_from_mlflow_info(data: dict) -> dict[str, Any]:
    """A trace record (info only, no spans) from MLflow's ``TraceInfoV3`` JSON.

    Token counts are not taken from it: the spans carry them, and they add up.
    """
    location = data.get("trace_location") or {}
    experiment = (location.get("mlflow_experiment") or {}).get("experiment_id")
    meta = {str(k): str(v) for k, v in (data.get("trace_metadata") or {}).items()}
    tags = {str(k): str(v) for k, v in (data.get("tags") or {}).items()
            if k not in (SPANS_LOCATION, "mlflow.artifactLocation")}
    request_time = timestamp_to_ms(data.get("request_time"))
    if request_time is None:
        raise ValueError("a trace info needs request_time")
    state = data.get("state") or "OK"
    return {
        "trace_id": data["trace_id"], "experiment_id": str(experiment or "0"),
        "request_time": request_time,
        "execution_time": duration_to_ms(data.get("execution_duration")),
        "state": "IN_PROGRESS" if state == "STATE_UNSPECIFIED" else state,
        "request_preview": data.get("request_preview"),
        "response_preview": data.get("response_preview"),
        "name": tags.get("mlflow.traceName"), "run_id": meta.get("mlflow.sourceRun"),
        "client_request_id": data.get("client_request_id"),
        "is_root": True, "count_tokens": False, "tags": tags, "metadata": meta, "spans": [],
    }


# -- OpenTelemetry values ------------------------------------------------------------
def any_value(value: Any) -> dict[str, Any]:
    """A Python value as OTLP's ``AnyValue`` JSON (proto3 field names)."""
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        return {"int_value": str(value)}
    if isinstance(value, float):
        return {"double_value": value}
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, (list, tuple)):
        return {"array_value": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlist_value": {"values": [{"key": str(k), "value": any_value(v)}
                                            for k, v in value.items()]}}
    if value is None:
        return {}
    return {"string_value": str(value)}


def from_any_value(value: Any) -> Any:
    """OTLP's ``AnyValue`` (a protobuf message, or JSON in either field-name style) as Python."""
    if hasattr(value, "WhichOneof"):
        kind = value.WhichOneof("value")
        if kind is None:
            return None
        inner = getattr(value, kind)
        if kind == "array_value":
            return [from_any_value(v) for v in inner.values]
        if kind == "kvlist_value":
            return {kv.key: from_any_value(kv.value) for kv in inner.values}
        if kind == "bytes_value":
            return base64.b64encode(inner).decode()
        return inner
    if not isinstance(value, dict) or not value:
        return None
    key, inner = next(iter(value.items()))
    key = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
    if key == "int_value":
        return int(inner)
    if key == "double_value":
        return float(inner)
    if key == "array_value":
        return [from_any_value(v) for v in (inner or {}).get("values", [])]
    if key == "kvlist_value":
        return {kv["key"]: from_any_value(kv.get("value")) for kv in (inner or {}).get("values", [])}
    return inner


def _json_text(value: Any) -> str:
    """Stored JSON text for an input/output attribute (MLflow sends JSON-dumped strings)."""
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            pass
    return to_json(value)


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def _mlflow_attributes(span: Span) -> dict[str, Any]:
    """The span's attributes with MLflow's own: trace id, span type, inputs, outputs."""
    attrs = {"mlflow.traceRequestId": span.trace_id, "mlflow.spanType": span.span_type,
             **span.attributes}
    if span.inputs is not None:
        attrs["mlflow.spanInputs"] = span.inputs
    if span.outputs is not None:
        attrs["mlflow.spanOutputs"] = span.outputs
    return attrs


def span_to_otel_json(span: Span) -> dict[str, Any]:
    """A stored span as an OpenTelemetry ``Span`` in proto3 JSON (MLflow's ``Trace.spans``)."""
    attrs = _mlflow_attributes(span)
    out: dict[str, Any] = {
        "trace_id": _b64(span.trace_id[3:]), "span_id": _b64(span.span_id), "name": span.name,
        "start_time_unix_nano": str(span.start_time_ns),
        "end_time_unix_nano": str(span.end_time_ns or span.start_time_ns),
        "attributes": [{"key": k, "value": any_value(v)} for k, v in attrs.items()],
        "events": [{"time_unix_nano": str(e.get("timestamp") or 0), "name": e.get("name", ""),
                    "attributes": [{"key": k, "value": any_value(v)}
                                   for k, v in (e.get("attributes") or {}).items()]}
                   for e in span.events],
        "status": {"code": f"STATUS_CODE_{span.status}", "message": span.status_message or ""},
    }
    if span.parent_id:
        out["parent_span_id"] = _b64(span.parent_id)
    return out


def span_to_mlflow_dict(span: Span) -> dict[str, Any]:
    """A span as MLflow's ``Span.to_dict()``: base64 ids, nanosecond times and attribute
    values as JSON text (``mlflow.spanType``, ``mlflow.spanInputs``, ... included)."""
    return {
        "trace_id": _b64(span.trace_id[3:]), "span_id": _b64(span.span_id),
        "parent_span_id": _b64(span.parent_id) if span.parent_id else None,
        "name": span.name, "start_time_unix_nano": span.start_time_ns,
        "end_time_unix_nano": span.end_time_ns,
        "events": [{"name": e.get("name", ""), "time_unix_nano": e.get("timestamp") or 0,
                    "attributes": e.get("attributes") or {}} for e in span.events],
        "status": {"code": f"STATUS_CODE_{span.status}", "message": span.status_message or ""},
        "attributes": {k: to_json(v) for k, v in _mlflow_attributes(span).items()},
        "links": [],
    }


def trace_to_mlflow_text(trace: Trace) -> str:
    """A trace as MLflow's ``Trace.to_json()`` text (what ``mlflow.search_traces`` puts in its
    DataFrame's ``trace`` column; ``mlflow.entities.Trace.from_json`` reads it)."""
    info = info_to_json(trace.info)
    if trace.info.execution_duration is not None:  # as TraceInfo.to_dict() writes it
        info.pop("execution_duration", None)
        info["execution_duration_ms"] = trace.info.execution_duration
    return json.dumps({"info": info,
                       "data": {"spans": [span_to_mlflow_dict(s) for s in trace.data.spans]}},
                      default=str)


def trace_to_json(trace: Trace) -> dict[str, Any]:
    """A whole trace as MLflow's ``Trace`` proto JSON (``trace_info`` and ``spans``)."""
    return {"trace_info": info_to_json(trace.info),
            "spans": [span_to_otel_json(s) for s in trace.data.spans]}


# -- OTLP ingest -------------------------------------------------------------------------
def _hex_id(value: Any, size: int) -> str | None:
    if not value:
        return None
    if isinstance(value, bytes):
        return value.hex() if any(value) else None
    text = str(value)
    if len(text) == size * 2 and re.fullmatch(r"[0-9a-fA-F]+", text):
        return text.lower()
    raw = base64.b64decode(text)
    return raw.hex() if any(raw) else None


def _get(obj: Any, snake: str) -> Any:
    if isinstance(obj, dict):
        if snake in obj:
            return obj[snake]
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)
        return obj.get(camel)
    return getattr(obj, snake, None)


def _attrs(items: Any) -> dict[str, Any]:
    return {_get(kv, "key"): from_any_value(_get(kv, "value")) for kv in items or ()}


def _otlp_span(raw: Any) -> dict[str, Any] | None:
    trace_hex = _hex_id(_get(raw, "trace_id"), 16)
    span_hex = _hex_id(_get(raw, "span_id"), 8)
    if trace_hex is None or span_hex is None:
        return None
    attrs = _attrs(_get(raw, "attributes"))
    status = _get(raw, "status")
    code = _get(status, "code") if status is not None else 0
    inputs, outputs = attrs.pop("mlflow.spanInputs", None), attrs.pop("mlflow.spanOutputs", None)
    span_type = attrs.pop("mlflow.spanType", None)
    attrs.pop("mlflow.traceRequestId", None)
    if isinstance(span_type, str) and span_type.startswith('"'):
        span_type = json.loads(span_type)
    for key in ("mlflow.chat.tokenUsage", "mlflow.llm.cost"):
        if isinstance(attrs.get(key), str):
            try:
                attrs[key] = json.loads(attrs[key])
            except ValueError:
                pass
    if "mlflow.chat.tokenUsage" not in attrs and "gen_ai.usage.input_tokens" in attrs:
        inp = int(attrs.get("gen_ai.usage.input_tokens") or 0)
        out = int(attrs.get("gen_ai.usage.output_tokens") or 0)
        attrs["mlflow.chat.tokenUsage"] = {"input_tokens": inp, "output_tokens": out,
                                           "total_tokens": inp + out}
    events = [{"name": _get(e, "name") or "", "timestamp": int(_get(e, "time_unix_nano") or 0),
               "attributes": _attrs(_get(e, "attributes"))} for e in _get(raw, "events") or ()]
    return {
        "trace_hex": trace_hex,
        "span_id": span_hex, "parent_span_id": _hex_id(_get(raw, "parent_span_id"), 8),
        "name": _get(raw, "name") or "span",
        "span_type": span_type or _genai_type(attrs),
        "start_time_ns": int(_get(raw, "start_time_unix_nano") or 0),
        "end_time_ns": int(_get(raw, "end_time_unix_nano") or 0) or None,
        "status_code": _STATUS_NAMES.get(code, "UNSET"),
        "status_message": (_get(status, "message") if status is not None else "") or "",
        "inputs": None if inputs is None else _json_text(inputs),
        "outputs": None if outputs is None else _json_text(outputs),
        "attributes": mapping_to_json(attrs) if attrs else "{}",
        "events": events_to_json(events) if events else "[]",
        "_attrs": attrs,
    }


def _genai_type(attrs: dict) -> str:
    op = str(attrs.get("gen_ai.operation.name") or "")
    return {"chat": "CHAT_MODEL", "text_completion": "LLM", "embeddings": "EMBEDDING",
            "execute_tool": "TOOL", "invoke_agent": "AGENT"}.get(op, "UNKNOWN")


def _sum(spans: list[dict], attr: str, keys: tuple[str, ...]) -> dict | None:
    total: dict[str, float] = {}
    for s in spans:
        usage = s["_attrs"].get(attr)
        if isinstance(usage, dict):
            for k in keys:
                if isinstance(usage.get(k), (int, float)):
                    total[k] = total.get(k, 0) + usage[k]
    return total or None


def records_from_spans(spans: list[dict], experiment_id: str) -> list[dict[str, Any]]:
    """Group decoded spans by trace into records (a trace's root span makes its info)."""
    by_trace: dict[str, list[dict]] = {}
    for s in spans:
        by_trace.setdefault(s["trace_hex"], []).append(s)
    records = []
    for trace_hex, group in by_trace.items():
        root = next((s for s in group if s["parent_span_id"] is None), None)
        first = root or min(group, key=lambda s: s["start_time_ns"])
        meta = {"mlflow.trace_schema.version": "3"}
        if tokens := _sum(group, "mlflow.chat.tokenUsage",
                          ("input_tokens", "output_tokens", "total_tokens")):
            meta["mlflow.trace.tokenUsage"] = json.dumps({k: int(v) for k, v in tokens.items()})
        if cost := _sum(group, "mlflow.llm.cost", ("input_cost", "output_cost", "total_cost")):
            meta["mlflow.trace.cost"] = json.dumps(cost)
        start = first["start_time_ns"]
        end = first["end_time_ns"]
        records.append({
            "trace_id": f"tr-{trace_hex}", "experiment_id": str(experiment_id),
            "request_time": start // 1_000_000,
            "execution_time": (end - start) // 1_000_000 if root and end else None,
            "state": ("ERROR" if first["status_code"] == "ERROR" else "OK") if root
            else "IN_PROGRESS",
            "request_preview": preview(first["inputs"]) if root else None,
            "response_preview": preview(first["outputs"]) if root else None,
            "name": first["name"] if root else None, "run_id": None, "is_root": root is not None,
            "tags": {"mlflow.traceName": first["name"]} if root else {}, "metadata": meta,
            "spans": [{k: v for k, v in s.items() if k not in ("trace_hex", "_attrs")}
                      for s in group],
        })
    return records


def records_from_otlp(body: bytes | dict, content_type: str = "application/x-protobuf",
                      experiment_id: str = "0") -> list[dict[str, Any]]:
    """Trace records from an OTLP ``ExportTraceServiceRequest`` (protobuf bytes or JSON).

    Raises:
        ValueError: for a body that is not an OTLP trace export.
    """
    if isinstance(body, dict) or "json" in content_type:
        try:
            data = body if isinstance(body, dict) else json.loads(body)
            if not isinstance(data, dict):
                raise TypeError("the body is not a JSON object")
            resource_spans = _get(data, "resource_spans") or []
            raw = [s for rs in resource_spans for ss in (_get(rs, "scope_spans") or [])
                   for s in (_get(ss, "spans") or [])]
            if not all(isinstance(r, dict) for r in raw):
                raise TypeError("a span is not a JSON object")
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            raise ValueError(f"not an OTLP/JSON ExportTraceServiceRequest: {exc!r}") from None
    else:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as exc:  # protobuf's DecodeError
            raise ValueError(f"not an OTLP ExportTraceServiceRequest: {exc}") from None
        raw = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    try:
        spans = [s for s in (_otlp_span(r) for r in raw) if s is not None]
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        raise ValueError(f"a span could not be read: {exc!r}") from None
    return records_from_spans(spans, experiment_id)


def otlp_json(records: list[dict], service_name: str = "kernelflow") -> dict[str, Any]:
    """Trace records as an OTLP/JSON ``ExportTraceServiceRequest`` (hex ids, camelCase)."""
    spans = []
    for rec in records:
        for s in rec.get("spans") or ():
            span = Span.from_row(rec["trace_id"], s)
            body = span_to_otel_json(span)
            out = {"traceId": rec["trace_id"][3:], "spanId": span.span_id, "name": span.name,
                   "startTimeUnixNano": body["start_time_unix_nano"],
                   "endTimeUnixNano": body["end_time_unix_nano"], "kind": 1,
                   "attributes": [{"key": a["key"], "value": _camel(a["value"])}
                                  for a in body["attributes"]],
                   "status": {"code": {"OK": 1, "ERROR": 2}.get(span.status, 0),
                              "message": span.status_message or ""}}
            if body["events"]:
                out["events"] = [{"timeUnixNano": e["time_unix_nano"], "name": e["name"],
                                  "attributes": [{"key": a["key"], "value": _camel(a["value"])}
                                                 for a in e["attributes"]]}
                                 for e in body["events"]]
            if span.parent_id:
                out["parentSpanId"] = span.parent_id
            spans.append(out)
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service_name}}]}
    return {"resourceSpans": [{"resource": resource,
                               "scopeSpans": [{"scope": {"name": "kernelflow"}, "spans": spans}]}]}


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): _camel(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


# -- assessments -------------------------------------------------------------------------
def assessment_to_json(a: Assessment) -> dict[str, Any]:
    """An assessment as MLflow's ``Assessment`` JSON."""
    out: dict[str, Any] = {
        "assessment_id": a.assessment_id, "assessment_name": a.name, "trace_id": a.trace_id,
        "source": {"source_type": a.source_type, "source_id": a.source_id or "default"},
        "create_time": ms_to_timestamp(a.create_time_ms or 0),
        "last_update_time": ms_to_timestamp(a.last_update_time_ms or a.create_time_ms or 0),
        "valid": a.valid, "metadata": dict(a.metadata or {}),
    }
    body: dict[str, Any] = {"value": a.value}
    if a.kind == "feedback" and a.error:
        body["error"] = a.error
    out["feedback" if a.kind == "feedback" else "expectation"] = body
    for key, value in (("rationale", a.rationale), ("span_id", a.span_id), ("run_id", a.run_id),
                       ("overrides", a.overrides)):
        if value is not None:
            out[key] = value
    return out


def assessment_from_json(data: dict, trace_id: str | None = None) -> Assessment:
    """An :class:`Assessment` from MLflow's ``Assessment`` JSON."""
    source = data.get("source") or {}
    if "expectation" in data:
        kind, body = "expectation", data.get("expectation") or {}
        value = body.get("value")
        serialized = body.get("serialized_value")
        if value is None and serialized:
            value = json.loads(serialized.get("value", "null"))
    else:
        kind, body = "feedback", data.get("feedback") or {}
        value = body.get("value")
    return Assessment(
        trace_id=str(trace_id or data.get("trace_id") or ""), name=data.get("assessment_name") or "",
        kind=kind, value=value, rationale=data.get("rationale"),
        source_type=source.get("source_type") or "CODE", source_id=source.get("source_id"),
        error=body.get("error") if kind == "feedback" else None, span_id=data.get("span_id"),
        metadata=data.get("metadata") or {}, assessment_id=data.get("assessment_id") or None,
        run_id=data.get("run_id"), valid=data.get("valid", True) is not False,
        overrides=data.get("overrides"),
        create_time_ms=timestamp_to_ms(data.get("create_time")),
    )
