"""Metric history endpoints: full history with paging, and sampled curves for many runs."""

from __future__ import annotations

import numpy as np

from kernelflow.entities import MetricHistory
from kernelflow.errors import InvalidParameterError
from kernelflow.paging import decode_page_token, encode_page_token

from . import shapes
from .request import Params
from .service import Api

MAX_RUNS_BULK = 100
MAX_RESULTS_PER_RUN = 2500
MAX_HISTORY_BULK = 25_000


def get_history(api: Api, p: Params) -> dict:
    """GET metrics/get-history: every point, or pages of ``max_results`` with a token."""
    run_id, key = p.need("run_id", "run_uuid"), p.need("metric_key")
    max_results = p.integer("max_results")
    if max_results is not None and max_results <= 0:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            "It must be a positive integer."
        )
    start = decode_page_token(p.text("page_token"))
    history = api.client.get_metric_history(run_id, key)
    if max_results is None and not start:
        return {"metrics": shapes.metric_points(history)}
    end = len(history) if max_results is None else start + max_results
    out: dict = {"metrics": shapes.metric_points(history[start:end])}
    if end < len(history):
        out["next_page_token"] = encode_page_token(end)
    return out


def get_history_bulk(api: Api, p: Params) -> dict:
    """GET metrics/get-history-bulk?run_id=..&run_id=..&metric_key=: MLflow's web UI call.

    Every point of one metric for up to 100 runs (runs by id, each run's points by time,
    step and value), at most ``max_results`` (25,000) points in all, as MLflow's handler.
    """
    run_ids = [str(r) for r in p.many("run_id")]
    if not run_ids:
        raise InvalidParameterError(
            "GetMetricHistoryBulk request must specify at least one run_id.")
    if len(run_ids) > MAX_RUNS_BULK:
        raise InvalidParameterError(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids.")
    if p.text("metric_key") is None:
        raise InvalidParameterError("GetMetricHistoryBulk request must specify a metric_key.")
    key = p.text("metric_key")
    max_results = min(p.integer("max_results", MAX_HISTORY_BULK), MAX_HISTORY_BULK)
    out: list[dict] = []
    for rid in sorted(run_ids):
        h = api.client.get_metric_history(rid, key)
        order = np.lexsort((h.values, h.steps, h.timestamps))
        for m in shapes.metric_points(_take(h, order)):
            m["run_id"] = rid
            out.append(m)
    return {"metrics": out[:max(max_results, 0)]}


def get_history_bulk_interval(api: Api, p: Params) -> dict:
    """GET metrics/get-history-bulk-interval: up to ``max_results`` points per run.

    As MLflow 3.17: each run's points in [start_step, end_step] (both or neither), ordered
    by step, time and value, are cut in ``max_results`` even buckets (SQL's NTILE) and the
    first point of each is kept, plus the run's last point (replacing the last pick when
    the page is full). Runs come in the order asked; an unknown run is a 404.
    """
    run_ids = [str(r) for r in p.many("run_ids")]
    if not run_ids:
        raise InvalidParameterError("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_RUNS_BULK:
        raise InvalidParameterError(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = p.need("metric_key")
    max_results = p.integer("max_results", MAX_RESULTS_PER_RUN)
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise InvalidParameterError(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    start, end = p.integer("start_step"), p.integer("end_step")
    if (start is None) != (end is None):
        raise InvalidParameterError(
            "If either start step or end step are specified, both must be specified.")
    if start is not None and start > end:
        raise InvalidParameterError(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    histories = [(rid, api.client.get_metric_history(rid, key)) for rid in run_ids]
    out = []
    for rid, h in histories:
        for m in shapes.metric_points(_sampled(h, start, end, max_results)):
            m["run_id"] = rid
            out.append(m)
    return {"metrics": out}


def _take(history, index) -> MetricHistory:
    return MetricHistory(history.key, history.timestamps[index], history.steps[index],
                         history.values[index])


def _sampled(h, start: int | None, end: int | None, n: int) -> MetricHistory:
    """MLflow's NTILE sampling of one run's points (see :func:`get_history_bulk_interval`)."""
    keep = np.ones(len(h), dtype=bool)
    if start is not None:
        keep = (h.steps >= start) & (h.steps <= end)
    index = np.flatnonzero(keep)
    index = index[np.lexsort((h.values[index], h.timestamps[index], h.steps[index]))]
    total = len(index)
    if total <= n:
        return _take(h, index)
    size, extra = divmod(total, n)  # NTILE: the first `extra` buckets hold one more row
    firsts = [i * (size + 1) if i < extra else extra * (size + 1) + (i - extra) * size
              for i in range(n)]
    if firsts[-1] != total - 1:
        if len(firsts) >= n:
            firsts[-1] = total - 1
        else:
            firsts.append(total - 1)
    return _take(h, index[firsts])
