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


def get_history_bulk_interval(api: Api, p: Params) -> dict:
    """GET metrics/get-history-bulk-interval: up to ``max_results`` sampled steps per run.

    The steps are spread evenly over the union of the runs' steps in
    [start_step, end_step], always keeping the first and last, as MLflow does.
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
    if start is not None and end is not None and start > end:
        raise InvalidParameterError(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    histories = {rid: api.client.get_metric_history(rid, key) for rid in sorted(run_ids)}
    steps = _sampled_steps(histories.values(), start, end, max_results)
    out = []
    for rid, h in histories.items():
        for m in shapes.metric_points(_select(h, np.isin(h.steps, steps))):
            m["run_id"] = rid
            out.append(m)
    return {"metrics": out}


def _select(history, mask) -> MetricHistory:
    return MetricHistory(history.key, history.timestamps[mask], history.steps[mask],
                         history.values[mask])


def _sampled_steps(histories, start: int | None, end: int | None, n: int) -> np.ndarray:
    arrays = [h.steps for h in histories if len(h)]
    if not arrays:
        return np.empty(0, dtype=np.int64)
    steps = np.unique(np.concatenate(arrays))
    if start is not None:
        steps = steps[steps >= start]
    if end is not None:
        steps = steps[steps <= end]
    if len(steps) <= n:
        return steps
    picks = np.unique(np.linspace(0, len(steps) - 1, n).round().astype(np.int64))
    return steps[picks]
