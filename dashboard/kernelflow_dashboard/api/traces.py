"""Traces over HTTP: MLflow 3's trace endpoints, OTLP ``/v1/traces``, and kernelflow's own.

- MLflow's client (``MLFLOW_TRACKING_URI=http://...``) sends spans to ``/v1/traces``
  (OTLP protobuf, experiment in ``x-mlflow-experiment-id``) and the trace's info
  to ``POST /api/3.0/mlflow/traces`` (StartTraceV3); it reads with ``traces/search``,
  ``traces/get``, ``traces/{id}``, and edits with ``traces/{id}/tags``,
  ``traces/delete-traces``, ``traces/link-to-run`` and ``traces/{id}/assessments``.
  Both the ``2.0`` and ``3.0`` prefixes answer every path.
- Any OpenTelemetry SDK can export to ``/v1/traces`` (protobuf or JSON).
- kernelflow's HTTP store uses ``/api/2.0/kernelflow/traces/...`` (records in,
  kernelflow's own shapes out).

Everything goes through the public ``kernelflow.Client``; the shapes come from
:mod:`kernelflow.tracing.codec`. Incoming requests continue the caller's trace
when they carry a W3C ``traceparent`` header (see :func:`traced`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kernelflow.errors import InvalidParameterError, ResourceNotFoundError
from kernelflow.tracing import codec

from .base import MAX_JSON_BYTES, ApiError, BaseHandler, run_blocking
from .request import Params
from .service import Api

EXPERIMENT_HEADER = "x-mlflow-experiment-id"


def _client(api: Api) -> Any:
    return api.client


def traced(fn: Callable, api: Api, headers: Any, name: str) -> Callable:
    """``fn`` made to continue the caller's trace when ``headers`` carry a ``traceparent``.

    The server's span (``name``, e.g. ``POST experiments/search``) joins the caller's
    trace and is stored in this server's store. Without the header, ``fn`` is returned
    unchanged: untraced requests cost nothing.
    """
    if not headers.get("traceparent"):
        return fn
    import kernelflow
    from kernelflow.tracing import continue_trace, set_destination

    set_destination(tracking_uri=api.client.tracking_uri)
    incoming = {"traceparent": headers.get("traceparent")}

    def run(*args: Any) -> Any:
        with continue_trace(incoming), kernelflow.start_span(name, span_type="TOOL") as span:
            span.set_attribute("http.route", name)
            return fn(*args)

    return run


# -- MLflow's endpoints ------------------------------------------------------------------
def start_trace(api: Api, p: Params) -> dict:
    """POST traces (StartTraceV3): the trace's info, sent when it ends."""
    trace = p.get("trace") or {}
    info = (trace.get("trace_info") if isinstance(trace, dict) else None) or p.get("trace_info")
    if not isinstance(info, dict) or not info.get("trace_id"):
        raise InvalidParameterError("StartTraceV3 needs trace.trace_info with a trace_id.")
    try:
        record = codec.record_from_mlflow_info(info)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidParameterError(f"Invalid trace_info: {exc!r}") from None
    client = _client(api)
    client.log_trace_records([record])
    return {"trace": {"trace_info": codec.info_to_json(client.get_trace_info(record["trace_id"]))}}


def _experiment_ids(p: Params) -> list[str] | None:
    ids = []
    for loc in p.objects("locations"):
        exp = (loc.obj("mlflow_experiment") or {}).get("experiment_id")
        if exp is not None:
            ids.append(str(exp))
    ids += _listed_ids(p) or []
    return ids or None


def _listed_ids(p: Params) -> list[str] | None:
    """``experiment_ids`` as strings; each must be a whole number (a 400, not a ValueError)."""
    raw = p.get("experiment_ids")
    if raw is None:
        return None
    ids = [str(x) for x in (raw if isinstance(raw, list) else [raw])]
    for e in ids:
        if not re.fullmatch(r"\d{1,18}", e):
            raise InvalidParameterError(
                f"Invalid experiment id {e[:40]!r} in 'experiment_ids': use experiment ids "
                "like '1' (experiments/search lists them).")
    return ids


def search_traces(api: Api, p: Params) -> dict:
    """POST traces/search (SearchTracesV3), and GET traces (v2 SearchTraces)."""
    order = p.get("order_by")
    order = [order] if isinstance(order, str) else order
    page = _client(api).search_traces(
        _experiment_ids(p), p.text("filter") or None, p.integer("max_results", 100) or 100,
        order or None, p.text("page_token") or None)
    out: dict[str, Any] = {"traces": [codec.info_to_json(i) for i in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def get_trace_info(api: Api, p: Params) -> dict:
    """GET traces/{trace_id} (GetTraceInfoV3) and traces/{trace_id}/info."""
    return {"trace": {"trace_info": codec.info_to_json(_client(api).get_trace_info(p["trace_id"]))}}


def get_trace(api: Api, p: Params) -> dict:
    """GET traces/get: the info and the spans."""
    return {"trace": codec.trace_to_json(_client(api).get_trace(p.need("trace_id", "request_id")))}


def _ids(p: Params, *names: str) -> list[str]:
    for name in names:
        raw = p.get(name)
        if raw:  # one id or a list of them (a number or an object is an id too, not a 500)
            return [str(x) for x in (raw if isinstance(raw, list) else [raw])]
    return []


def batch_get_traces(api: Api, p: Params) -> dict:
    """GET/POST traces/batchGet: whole traces (missing ids left out)."""
    traces = _client(api).get_traces(_ids(p, "trace_ids"))
    return {"traces": [codec.trace_to_json(t) for t in traces]}


def batch_get_trace_infos(api: Api, p: Params) -> dict:
    """POST traces/batchGetInfos."""
    client = _client(api)
    out = []
    for trace_id in _ids(p, "trace_ids"):
        try:
            out.append(codec.info_to_json(client.get_trace_info(trace_id)))
        except ResourceNotFoundError:
            pass
    return {"trace_infos": out}


def set_trace_tag(api: Api, p: Params) -> dict:
    """PATCH traces/{trace_id}/tags."""
    _client(api).set_trace_tag(p["trace_id"], p.need("key"), p.text("value") or "")
    return {}


def delete_trace_tag(api: Api, p: Params) -> dict:
    """DELETE traces/{trace_id}/tags?key=..."""
    _client(api).delete_trace_tag(p["trace_id"], p.need("key"))
    return {}


def delete_traces(api: Api, p: Params) -> dict:
    """POST traces/delete-traces: by ids, or older than a time."""
    ids = _ids(p, "request_ids", "trace_ids") or None
    deleted = _client(api).delete_traces(p.need("experiment_id"), p.integer("max_timestamp_millis"),
                                         p.integer("max_traces"), ids)
    return {"traces_deleted": deleted}


def link_traces_to_run(api: Api, p: Params) -> dict:
    """POST traces/link-to-run."""
    _client(api).link_traces_to_run(_ids(p, "trace_ids"), p.need("run_id"))
    return {}


def create_assessment(api: Api, p: Params) -> dict:
    """POST traces/{trace_id}/assessments."""
    data = p.get("assessment")
    if not isinstance(data, dict):
        raise InvalidParameterError("CreateAssessment needs an 'assessment' object.")
    a = _assessment(data, p["trace_id"])
    stored = _log(api, a)
    return {"assessment": codec.assessment_to_json(stored)}


def _assessment(data: dict, trace_id: str) -> Any:
    try:
        return codec.assessment_from_json(data, trace_id)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidParameterError(f"Invalid assessment: {exc!r}") from None


def _log(api: Api, a: Any) -> Any:
    return _client(api).log_assessment(
        a.trace_id, a.name, a.value, kind=a.kind, rationale=a.rationale,
        source_type=a.source_type, source_id=a.source_id, error=a.error, span_id=a.span_id,
        metadata=a.metadata, run_id=a.run_id, assessment_id=a.assessment_id)


def _find_assessment(api: Api, p: Params) -> Any:
    for a in _client(api).get_assessments(p["trace_id"]):
        if a.assessment_id == p["assessment_id"]:
            return a
    raise ResourceNotFoundError(f"Trace {p['trace_id']} has no assessment {p['assessment_id']!r}.")


def get_assessment(api: Api, p: Params) -> dict:
    """GET traces/{trace_id}/assessments/{assessment_id}."""
    return {"assessment": codec.assessment_to_json(_find_assessment(api, p))}


def update_assessment(api: Api, p: Params) -> dict:
    """PATCH traces/{trace_id}/assessments/{assessment_id}: fields present replace the old."""
    old = _find_assessment(api, p)
    changes = p.get("assessment") or {}
    if not isinstance(changes, dict):
        raise InvalidParameterError("UpdateAssessment needs an 'assessment' object.")
    new = _assessment({**codec.assessment_to_json(old), **changes}, p["trace_id"])
    new.assessment_id = old.assessment_id
    return {"assessment": codec.assessment_to_json(_log(api, new))}


def delete_assessment(api: Api, p: Params) -> dict:
    """DELETE traces/{trace_id}/assessments/{assessment_id}."""
    _client(api).delete_assessment(p["trace_id"], p["assessment_id"])
    return {}


# -- kernelflow's own (the HTTP store) -----------------------------------------------------
def log_records(api: Api, p: Params) -> dict:
    """POST kernelflow traces/batch: trace records from kernelflow's SDK over HTTP."""
    records = p.get("records")
    if not isinstance(records, list):
        raise InvalidParameterError("traces/batch needs 'records': a list of trace records.")
    _client(api).log_trace_records(records)
    return {}


def kf_search(api: Api, p: Params) -> dict:
    """POST kernelflow traces/search: TraceInfo dicts and the next page token."""
    page = _client(api).search_traces(
        _listed_ids(p), p.text("filter_string"), p.integer("max_results", 100) or 100,
        p.get("order_by"), p.text("page_token"), run_id=p.text("run_id"))
    return {"traces": [i.to_dict() for i in page], "next_page_token": page.token}


def kf_count(api: Api, p: Params) -> dict:
    """POST kernelflow traces/count."""
    return {"count": _client(api).count_traces(_listed_ids(p), p.text("filter_string"))}


def kf_get(api: Api, p: Params) -> dict:
    """GET kernelflow traces/get?trace_id=: a Trace dict (spans included)."""
    return _client(api).get_trace(p.need("trace_id")).to_dict()


def kf_batch_get(api: Api, p: Params) -> dict:
    """POST kernelflow traces/batch-get {trace_ids}: Trace dicts (missing ids left out)."""
    return {"traces": [t.to_dict() for t in _client(api).get_traces(_ids(p, "trace_ids"))]}


def kf_assessments(api: Api, p: Params) -> dict:
    """GET kernelflow traces/assessments?trace_id=&name=&kind=."""
    found = _client(api).get_assessments(p.need("trace_id"), p.text("name"), p.text("kind"))
    return {"assessments": [a.to_dict() for a in found]}


def kf_log_assessment(api: Api, p: Params) -> dict:
    """POST kernelflow traces/log-assessment: an Assessment dict."""
    from kernelflow.tracing import Assessment

    for required in ("trace_id", "name", "kind"):  # a 400 naming the field, not a TypeError
        p.need(required)
    fields = {k: v for k, v in p.items() if k in Assessment.__dataclass_fields__}
    return _log(api, Assessment(**fields)).to_dict()


def kf_delete_assessment(api: Api, p: Params) -> dict:
    """POST kernelflow traces/delete-assessment."""
    _client(api).delete_assessment(p.need("trace_id"), p.need("assessment_id"))
    return {}


_ID = r"(?P<trace_id>tr-[^/]+|[0-9a-fA-F-]{8,})"
MLFLOW: list[tuple[re.Pattern, str, Callable]] = [
    (re.compile(r""), "POST", start_trace),
    (re.compile(r""), "GET", search_traces),
    (re.compile(r"search"), "POST", search_traces),
    (re.compile(r"get"), "GET", get_trace),
    (re.compile(r"batchGet"), "GET", batch_get_traces),
    (re.compile(r"batchGet"), "POST", batch_get_traces),
    (re.compile(r"batchGetInfos"), "POST", batch_get_trace_infos),
    (re.compile(r"delete-traces"), "POST", delete_traces),
    (re.compile(r"link-to-run"), "POST", link_traces_to_run),
    (re.compile(_ID), "GET", get_trace_info),
    (re.compile(_ID + r"/info"), "GET", get_trace_info),
    (re.compile(_ID + r"/tags"), "PATCH", set_trace_tag),
    (re.compile(_ID + r"/tags"), "DELETE", delete_trace_tag),
    (re.compile(_ID + r"/assessments"), "POST", create_assessment),
    (re.compile(_ID + r"/assessments/(?P<assessment_id>[^/]+)"), "GET", get_assessment),
    (re.compile(_ID + r"/assessments/(?P<assessment_id>[^/]+)"), "PATCH", update_assessment),
    (re.compile(_ID + r"/assessments/(?P<assessment_id>[^/]+)"), "DELETE", delete_assessment),
]
KERNELFLOW: list[tuple[re.Pattern, str, Callable]] = [
    (re.compile(r"batch"), "POST", log_records),
    (re.compile(r"search"), "POST", kf_search),
    (re.compile(r"count"), "POST", kf_count),
    (re.compile(r"get"), "GET", kf_get),
    (re.compile(r"batch-get"), "POST", kf_batch_get),
    (re.compile(r"assessments"), "GET", kf_assessments),
    (re.compile(r"log-assessment"), "POST", kf_log_assessment),
    (re.compile(r"delete-assessment"), "POST", kf_delete_assessment),
]


class TracesHandler(BaseHandler):
    """Dispatches ``.../traces/<path>`` to the functions above."""

    api: Api
    table: list

    async def _dispatch(self, path: str | None = None) -> None:
        path = (path or "").strip("/")
        method = self.request.method
        matched = False
        for pattern, verb, fn in self.table:
            m = pattern.fullmatch(path)
            if m is None:
                continue
            matched = True
            if verb == method:
                params = self.params()
                params.update(m.groupdict())
                call = traced(fn, self.api, self.request.headers, f"{method} traces/{path}")
                self.write_json(await run_blocking(call, self.api, params))
                return
        if matched:
            raise ApiError(405, "ENDPOINT_NOT_FOUND",
                           f"{method} is not allowed on {self.request.path}.")
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No trace endpoint {self.request.path}.")

    get = post = patch = delete = _dispatch


class OtlpTracesHandler(BaseHandler):
    """POST /v1/traces: OTLP/HTTP spans, protobuf or JSON, from any OpenTelemetry SDK.

    The experiment is the ``x-mlflow-experiment-id`` header (MLflow's client sends it),
    else the ``experiment_id`` query argument, else ``0``. Answers an empty
    ``ExportTraceServiceResponse`` in the request's encoding.
    """

    api: Api

    async def post(self) -> None:
        body = self.request.body or b""
        if len(body) > MAX_JSON_BYTES:
            raise ApiError(413, "INVALID_PARAMETER_VALUE", "OTLP request body too large.")
        ctype = (self.request.headers.get("Content-Type") or "application/x-protobuf").lower()
        experiment = (self.request.headers.get(EXPERIMENT_HEADER)
                      or self.get_query_argument("experiment_id", None) or "0")
        if "gzip" in (self.request.headers.get("Content-Encoding") or ""):
            import gzip

            body = gzip.decompress(body)
        try:
            records = codec.records_from_otlp(body, ctype, str(experiment))
        except ValueError as exc:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid OTLP body: {exc}") from None
        if records:
            await run_blocking(_client(self.api).log_trace_records, records)
        if "json" in ctype:
            self.write_json({})
        else:
            self.set_header("Content-Type", "application/x-protobuf")
            self.finish(b"")


def trace_routes(api: Api, security: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """The trace routes; mount them before the catch-all MLflow routes."""
    kw = {"api": api, "security": security}
    return [
        (r"/(?:ajax-)?api/[23]\.0/mlflow/traces/?(.*)", TracesHandler, {**kw, "table": MLFLOW}),
        (r"/(?:ajax-)?api/2\.0/kernelflow/traces/(.+)", TracesHandler,
         {**kw, "table": KERNELFLOW}),
        (r"/v1/traces", OtlpTracesHandler, kw),
    ]


__all__ = ["OtlpTracesHandler", "TracesHandler", "trace_routes"]
