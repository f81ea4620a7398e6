"""The trace methods of :class:`kernelflow.Client` (MLflow's ``MlflowClient`` names)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidParameterError
from .entities import Assessment, Trace, TraceInfo


class TraceClient:
    """Mixed into :class:`kernelflow.Client`: search, read, tag and assess traces."""

    _store: Any
    flush: Any  # Client's: commit what this process queued before reading

    def search_traces(self, experiment_ids: list[str] | str | None = None,
                      filter_string: str | None = None, max_results: int = 100,
                      order_by: list[str] | None = None, page_token: str | None = None,
                      run_id: str | None = None) -> list[TraceInfo]:
        """Trace infos matching a filter, newest first; the list's ``.token`` pages on.

        Args:
            experiment_ids: experiments to search (all when None).
            filter_string: e.g. ``"trace.status = 'ERROR' AND tags.env = 'prod'"``; keys:
                ``trace.status``, ``trace.name``, ``trace.timestamp_ms``,
                ``trace.execution_time_ms``, ``trace.run_id``, ``trace.total_tokens``,
                ``trace.cost``, ``tags.<k>``, ``metadata.<k>``, and ``span.name``,
                ``span.type``, ``span.status`` (traces with such a span).
            max_results: page size.
            order_by: e.g. ``["timestamp_ms DESC"]`` (the default) or ``["execution_time_ms"]``.
            page_token: the ``.token`` of the previous page.
            run_id: only traces made in this run.
        """
        from ..client import PagedList

        self.flush()
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
            raise InvalidParameterError(f"max_results must be a positive int, got {max_results!r}.")
        infos, token = self._store.search_traces(
            experiment_ids=None if experiment_ids is None else list(experiment_ids),
            filter_string=filter_string, max_results=max_results, order_by=order_by,
            page_token=page_token, run_id=run_id)
        return PagedList(infos, token)

    def count_traces(self, experiment_ids: list[str] | None = None,
                     filter_string: str | None = None) -> int:
        """How many traces match a filter (what a paged table needs for its page count)."""
        self.flush()
        return self._store.count_traces(experiment_ids, filter_string)

    def get_trace(self, trace_id: str) -> Trace:
        """A trace with its spans and assessments.

        Raises:
            ResourceNotFoundError: no trace has this id.
        """
        self.flush()
        return self._store.get_trace(str(trace_id))

    def get_traces(self, trace_ids: list[str]) -> list[Trace]:
        """Several whole traces (spans and assessments) in the order asked; ids that match
        no trace are left out. One round of queries, not one per trace."""
        self.flush()
        return self._store.get_traces([str(t) for t in trace_ids])

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """A trace's info (no spans)."""
        self.flush()
        return self._store.get_trace_info(str(trace_id))

    def delete_traces(self, experiment_id: str, max_timestamp_millis: int | None = None,
                      max_traces: int | None = None, trace_ids: list[str] | None = None) -> int:
        """Delete traces of an experiment by id, or those older than a time; return how many.

        Args:
            experiment_id: the experiment the traces belong to.
            max_timestamp_millis: delete traces that started at or before this time.
            max_traces: with ``max_timestamp_millis``, delete at most this many (oldest first).
            trace_ids: delete these traces.
        """
        self.flush()
        return self._store.delete_traces(str(experiment_id), max_timestamp_millis, max_traces,
                                         None if trace_ids is None else list(trace_ids))

    def set_trace_tag(self, trace_id: str, key: str, value: Any) -> None:
        """Set a tag on a trace (tags stay editable; metadata does not)."""
        from ..validation import check_key

        self.flush()
        self._store.set_trace_tag(trace_id, check_key(key, "trace tag key"), str(value))

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag from a trace."""
        self.flush()
        self._store.delete_trace_tag(trace_id, key)

    def link_traces_to_run(self, trace_ids: list[str], run_id: str) -> None:
        """Attach traces to a run (they then show on the run and in ``search_traces(run_id=)``)."""
        self.flush()
        self._store.link_traces_to_run(list(trace_ids), run_id)

    def log_trace_records(self, records: list[dict]) -> None:
        """Store finished traces given as records, synchronously (what servers receive).

        A record is a dict: ``trace_id`` (``tr-`` + 32 hex), ``experiment_id``,
        ``request_time`` (ms), ``execution_time`` (ms), ``state``, ``name``, ``tags``,
        ``metadata``, ``is_root`` (False when it only adds spans to a trace begun
        elsewhere) and ``spans`` (dicts with ``span_id``, ``parent_span_id``, ``name``,
        ``span_type``, ``start_time_ns``, ``end_time_ns``, ``status_code``, and
        ``inputs``/``outputs``/``attributes``/``events`` as JSON text). See
        :mod:`kernelflow.tracing.codec` for records made from MLflow's and OTLP's shapes.
        """
        for rec in records:
            _check_record(rec)
        for experiment_id in {str(rec.get("experiment_id") or "0") for rec in records}:
            self._store.get_experiment(experiment_id)  # ResourceNotFoundError if it is not there
        self._store.write_traces(list(records))

    # -- assessments -----------------------------------------------------------
    def log_assessment(self, trace_id: str, name: str, value: Any = None, *,
                       kind: str = "feedback", rationale: str | None = None,
                       source_type: str = "CODE", source_id: str | None = None,
                       error: dict | str | None = None, span_id: str | None = None,
                       metadata: dict[str, str] | None = None, run_id: str | None = None,
                       assessment_id: str | None = None) -> Assessment:
        """Record feedback on a trace (a score, a judge's verdict) or an expectation.

        Args:
            trace_id: the trace assessed.
            name: what is assessed, e.g. ``"correctness"``.
            value: any JSON value (``True``, ``0.8``, ``"yes"``, ``{"facts": [...]}``).
            kind: ``"feedback"`` or ``"expectation"`` (the expected answer).
            rationale: why this value (a judge's explanation).
            source_type: ``"HUMAN"``, ``"LLM_JUDGE"`` or ``"CODE"``.
            source_id: who or what assessed (a user name, a judge model).
            error: when the assessment itself failed: ``{"error_code", "error_message"}``.
            span_id: the span assessed, if not the whole trace.
            metadata: string key/values.
            run_id: the evaluation run that produced it.
            assessment_id: update this assessment instead of adding one.

        Returns:
            The stored :class:`~kernelflow.tracing.Assessment`, with its id.
        """
        if isinstance(error, str):
            error = {"error_code": "ERROR", "error_message": error}
        if not isinstance(name, str) or not name:
            raise InvalidParameterError("An assessment needs a non-empty name, e.g. 'correctness'.")
        self.flush()
        return self._store.log_assessment(Assessment(
            trace_id=trace_id, name=name, kind=kind, value=value, rationale=rationale,
            source_type=str(source_type).upper(), source_id=source_id, error=error,
            span_id=span_id, metadata={str(k): str(v) for k, v in (metadata or {}).items()},
            run_id=run_id, assessment_id=assessment_id))

    def log_feedback(self, trace_id: str, name: str, value: Any = None, **kwargs: Any) -> Assessment:
        """:meth:`log_assessment` with ``kind="feedback"``."""
        return self.log_assessment(trace_id, name, value, kind="feedback", **kwargs)

    def log_expectation(self, trace_id: str, name: str, value: Any = None,
                        **kwargs: Any) -> Assessment:
        """:meth:`log_assessment` with ``kind="expectation"``."""
        return self.log_assessment(trace_id, name, value, kind="expectation", **kwargs)

    def get_assessments(self, trace_id: str, name: str | None = None,
                        kind: str | None = None) -> list[Assessment]:
        """A trace's assessments, oldest first; optionally only one name or kind."""
        self.flush()
        return self._store.get_assessments(trace_id, name=name, kind=kind)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        """Delete one assessment."""
        self.flush()
        self._store.delete_assessment(trace_id, assessment_id)


_HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _check_record(rec: Any) -> None:
    """Refuse a trace record the store could not hold, saying which field is wrong."""
    if not isinstance(rec, dict) or not re.fullmatch(r"tr-[0-9a-f]{32}", str(rec.get("trace_id"))):
        raise InvalidParameterError(
            "A trace record is a dict whose trace_id is 'tr-' and 32 lowercase hex digits.")
    where = f"trace record {rec['trace_id']}"
    if isinstance(rec.get("request_time"), bool) or not isinstance(rec.get("request_time"), int):
        raise InvalidParameterError(f"{where} needs request_time: ms since the epoch (int).")
    for key in ("tags", "metadata"):
        if not isinstance(rec.get(key) or {}, dict):
            raise InvalidParameterError(f"{where}: {key} must be an object of strings.")
    spans = rec.get("spans") or []
    if not isinstance(spans, list):
        raise InvalidParameterError(f"{where}: spans must be a list.")
    for i, span in enumerate(spans):
        if not isinstance(span, dict) or not _HEX16.match(str(span.get("span_id"))):
            raise InvalidParameterError(f"{where}: spans[{i}].span_id must be 16 hex digits.")
        parent = span.get("parent_span_id")
        if parent is not None and not _HEX16.match(str(parent)):
            raise InvalidParameterError(f"{where}: spans[{i}].parent_span_id must be 16 hex "
                                        "digits or null.")
        if not isinstance(span.get("name"), str) or not isinstance(span.get("start_time_ns"), int):
            raise InvalidParameterError(f"{where}: spans[{i}] needs a name (string) and "
                                        "start_time_ns (int).")
        for key in ("inputs", "outputs", "attributes", "events", "status_message"):
            if span.get(key) is not None and not isinstance(span[key], str):
                raise InvalidParameterError(f"{where}: spans[{i}].{key} must be JSON text.")
