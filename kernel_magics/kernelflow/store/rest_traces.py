"""Traces over HTTP: the trace members of the Store protocol for ``RestStore``.

Writes (the background writer's ``write_traces``) go to the server's
``/api/2.0/kernelflow/traces/batch`` as records, in one call per batch; reads use
kernelflow's trace endpoints and come back as the same entities the SQLite store
returns. Tags, links and deletes use MLflow's own trace endpoints.
"""

from __future__ import annotations

from typing import Any

from ..tracing.entities import Assessment, Span, Trace, TraceData, TraceInfo

BATCH_RECORDS = 200


def _info(data: dict) -> TraceInfo:
    fields = {k: v for k, v in data.items() if k in TraceInfo.__dataclass_fields__}
    fields["assessments"] = [_assessment(a) for a in data.get("assessments") or ()]
    return TraceInfo(**fields)


def _assessment(data: dict) -> Assessment:
    return Assessment(**{k: v for k, v in data.items() if k in Assessment.__dataclass_fields__})


def _trace(data: dict) -> Trace:
    spans = [Span(**{k: v for k, v in s.items() if k in Span.__dataclass_fields__})
             for s in (data.get("data") or {}).get("spans") or ()]
    return Trace(info=_info(data["info"]), data=TraceData(spans=spans))


class RestTraceMixin:
    """Trace reads and writes against a kernelflow server."""

    call: Any

    def write_traces(self, items: list) -> list[str]:
        records: list = []
        refused: list[str] = []
        for item in items:
            try:
                records.append(item.to_record() if hasattr(item, "to_record") else item)
            except Exception as exc:  # one broken trace must not hold up the others
                refused.append(f"trace {getattr(item, 'trace_id', '?')} ({exc!r})")
        for i in range(0, len(records), BATCH_RECORDS):
            self.call("POST", "traces/batch", {"records": records[i:i + BATCH_RECORDS]},
                      prefix="kernelflow")
        return refused

    def search_traces(self, experiment_ids: list | None = None, filter_string: str | None = None,
                      max_results: int = 100, order_by: list[str] | None = None,
                      page_token: str | None = None, run_id: str | None = None,
                      ) -> tuple[list[TraceInfo], str | None]:
        body = {"experiment_ids": experiment_ids, "filter_string": filter_string,
                "max_results": max_results, "order_by": order_by, "page_token": page_token,
                "run_id": run_id}
        out = self.call("POST", "traces/search", {k: v for k, v in body.items() if v is not None},
                        prefix="kernelflow")
        return [_info(t) for t in out.get("traces") or ()], out.get("next_page_token")

    def count_traces(self, experiment_ids: list | None = None,
                     filter_string: str | None = None) -> int:
        body = {"experiment_ids": experiment_ids, "filter_string": filter_string}
        return int(self.call("POST", "traces/count", {k: v for k, v in body.items() if v},
                             prefix="kernelflow")["count"])

    def get_trace(self, trace_id: str) -> Trace:
        return _trace(self.call("GET", "traces/get", {"trace_id": trace_id}, prefix="kernelflow"))

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        return self.get_trace(trace_id).info

    def get_traces(self, trace_ids: list[str]) -> list[Trace]:
        found: list[Trace] = []
        ids = [str(t) for t in trace_ids]
        for i in range(0, len(ids), 100):  # one request per 100 traces
            out = self.call("POST", "traces/batch-get", {"trace_ids": ids[i:i + 100]},
                            prefix="kernelflow")
            found += [_trace(t) for t in out.get("traces") or ()]
        return found

    def delete_traces(self, experiment_id: str, max_timestamp_millis: int | None = None,
                      max_traces: int | None = None, trace_ids: list[str] | None = None) -> int:
        body = {"experiment_id": str(experiment_id), "max_timestamp_millis": max_timestamp_millis,
                "max_traces": max_traces, "request_ids": trace_ids}
        out = self.call("POST", "traces/delete-traces",
                        {k: v for k, v in body.items() if v is not None})
        return int(out.get("traces_deleted", 0))

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self.call("PATCH", f"traces/{trace_id}/tags", {"key": key, "value": value})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self.call("DELETE", f"traces/{trace_id}/tags", {"key": key})

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        self.call("POST", "traces/link-to-run", {"trace_ids": list(trace_ids), "run_id": run_id})

    def log_assessment(self, assessment: Assessment) -> Assessment:
        body = {k: v for k, v in assessment.to_dict().items() if v is not None}
        return _assessment(self.call("POST", "traces/log-assessment", body, prefix="kernelflow"))

    def get_assessments(self, trace_id: str, name: str | None = None,
                        kind: str | None = None) -> list[Assessment]:
        body = {k: v for k, v in (("trace_id", trace_id), ("name", name), ("kind", kind)) if v}
        out = self.call("GET", "traces/assessments", body, prefix="kernelflow")
        return [_assessment(a) for a in out.get("assessments") or ()]

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        self.call("POST", "traces/delete-assessment",
                  {"trace_id": trace_id, "assessment_id": assessment_id}, prefix="kernelflow")
