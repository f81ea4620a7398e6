"""``kf.search_traces`` and ``kf.get_trace``: the read side on the current tracking URI."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParameterError
from .entities import Trace

FRAME_COLUMNS = ("trace_id", "trace", "client_request_id", "state", "request_time",
                 "execution_duration", "request", "response", "trace_metadata", "tags",
                 "spans", "assessments")


def _client():
    from ..client import default_client

    return default_client()


def search_traces(experiment_ids: list[str] | None = None, filter_string: str | None = None,
                  max_results: int | None = None, order_by: list[str] | None = None,
                  run_id: str | None = None, return_type: str = "pandas",
                  include_spans: bool = True) -> Any:
    """Search traces as ``mlflow.search_traces`` does: a DataFrame (or a list of Traces).

    Args:
        experiment_ids: experiments to search; the current experiment when None (all
            experiments when a ``run_id`` is given).
        filter_string: e.g. ``"trace.status = 'OK' AND tags.env = 'prod'"``.
        max_results: how many at most (all when None).
        order_by: e.g. ``["timestamp_ms DESC"]`` (the default).
        run_id: only traces made in this run.
        return_type: ``"pandas"`` or ``"list"``.
        include_spans: with False the ``spans`` column (and Trace.data) is left empty.

    Returns:
        A DataFrame with columns trace_id, trace, client_request_id, state, request_time,
        execution_duration, request, response, trace_metadata, tags, spans, assessments;
        or a list of :class:`~kernelflow.tracing.Trace`.
    """
    if return_type not in ("pandas", "list"):
        raise InvalidParameterError(f"return_type must be 'pandas' or 'list', got {return_type!r}.")
    client = _client()
    if experiment_ids is None and run_id is None:
        from ..fluent import _current_experiment_id

        experiment_ids = [_current_experiment_id()]
    limit = max_results if max_results is not None else 1_000_000
    infos: list = []
    token = None
    while len(infos) < limit:
        page = client.search_traces(experiment_ids, filter_string, min(1000, limit - len(infos)),
                                    order_by, token, run_id=run_id)
        infos.extend(page)
        token = page.token
        if not token:
            break
    if include_spans:
        traces = client.get_traces([info.trace_id for info in infos])
    else:
        from .entities import TraceData

        traces = [Trace(info=info, data=TraceData()) for info in infos]
    if return_type == "list":
        return traces
    return traces_frame(traces)


def traces_frame(traces: list[Trace]):
    """A pandas DataFrame of traces, shaped like ``mlflow.search_traces``'s: the ``trace``
    column holds MLflow's ``Trace.to_json()`` text (``mlflow.entities.Trace.from_json`` reads
    it) and ``spans`` MLflow's span dicts; use ``return_type="list"`` for Trace objects."""
    import pandas as pd

    from .codec import assessment_to_json, span_to_mlflow_dict, trace_to_mlflow_text

    rows = []
    for t in traces:
        i, root = t.info, t.data._root()
        rows.append((i.trace_id, trace_to_mlflow_text(t), i.client_request_id, i.state,
                     i.request_time, i.execution_duration, root.inputs if root else None,
                     root.outputs if root else None, i.trace_metadata, i.tags,
                     [span_to_mlflow_dict(s) for s in t.data.spans],
                     [assessment_to_json(a) for a in i.assessments]))
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def get_trace(trace_id: str) -> Trace | None:
    """One trace with its spans, from the current tracking URI; None (and a warning) when
    no trace has this id, as ``mlflow.get_trace`` does. ``Client.get_trace`` raises instead.
    """
    from ..errors import ResourceNotFoundError

    try:
        return _client().get_trace(trace_id)
    except ResourceNotFoundError as exc:
        import logging

        logging.getLogger("kernelflow.tracing").warning("%s", exc)
        return None
