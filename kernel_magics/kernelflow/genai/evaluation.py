"""``kf.genai.evaluate``: run a GenAI app on rows, score each row, keep everything as traces.

Each row becomes a trace (the ``predict_fn`` call, or the given outputs) linked to
the evaluation run; expectations and every scorer's verdict become assessments on
that trace. Scorers run in a bounded thread pool; a scorer that fails (a judge's
LLM down, a bad answer) marks that row's assessment as an error with the message
and the evaluation goes on. Per-scorer means are logged to the run as
``<scorer>/mean``, and the per-row table as ``eval_results_table.json``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidParameterError, KernelflowError
from .scorers import Feedback, Scorer, numeric, scorer

RESULTS_TABLE = "eval_results_table.json"
EVAL_TAG = "kernelflow.evaluation"
MAX_HTML_ROWS = 200  # rows shown under the cell; result_df has them all


@dataclass
class RowResult:
    """One evaluated row: its trace, what went in and out, and each assessment."""

    index: int
    trace_id: str | None
    inputs: Any
    outputs: Any = None
    expectations: dict | None = None
    feedback: dict[str, Feedback] = field(default_factory=dict)
    error: str | None = None


@dataclass
class GenAIEvaluationResult:
    """What ``kf.genai.evaluate`` returns.

    Attributes:
        run_id: the run holding the metrics and the traces.
        metrics: ``<scorer>/mean`` for every scorer with numeric (or yes/no, bool) values.
        rows: one :class:`RowResult` per row, in order.
    """

    run_id: str
    metrics: dict[str, float]
    rows: list[RowResult]

    @property
    def result_df(self):
        """The per-row table as a DataFrame (values, rationales and errors per scorer)."""
        import pandas as pd

        return pd.DataFrame(table_records(self.rows))

    def _repr_html_(self) -> str:
        return results_html(self.rows, self.metrics, self.run_id)


def table_records(rows: list[RowResult]) -> list[dict]:
    """The per-row table as records: row, trace_id, inputs, outputs, <name>/value|rationale|error."""
    out = []
    for r in rows:
        rec: dict[str, Any] = {"row": r.index, "trace_id": r.trace_id, "inputs": r.inputs,
                               "outputs": r.outputs, "expectations": r.expectations}
        for name, fb in r.feedback.items():
            rec[f"{name}/value"] = fb.value
            rec[f"{name}/rationale"] = fb.rationale
            rec[f"{name}/error"] = fb.error
        out.append(rec)
    return out


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def results_html(rows: list[RowResult], metrics: dict, run_id: str | None) -> str:
    """An HTML table: row, inputs, outputs, each scorer's value (rationale on hover)."""
    names = list(dict.fromkeys(n for r in rows for n in r.feedback))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["row", "inputs", "outputs", *names])
    body = []
    for r in rows[:MAX_HTML_ROWS]:
        cells = [str(r.index), html.escape(_short(r.inputs)), html.escape(_short(r.outputs))]
        for n in names:
            fb = r.feedback.get(n)
            if fb is None:
                cells.append("")
            elif fb.error:
                cells.append(f"<span title='{html.escape(fb.error, quote=True)}' "
                             f"style='color:#b00'>error</span>")
            else:
                tip = html.escape(fb.rationale or "", quote=True)
                cells.append(f"<span title='{tip}'>{html.escape(str(fb.value))}</span>")
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    summary = ", ".join(f"{html.escape(k)} = {v:.3f}" for k, v in sorted(metrics.items()))
    run = f"run <code>{html.escape(run_id)}</code>: " if run_id else ""
    more = (f"<div>… and {len(rows) - MAX_HTML_ROWS} more rows (all in result_df and the "
            "dashboard's Evaluation page)</div>") if len(rows) > MAX_HTML_ROWS else ""
    return (f"<div class='kf-genai-eval'><div>{run}{summary}</div>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{more}</div>")


# -- input rows ------------------------------------------------------------------------
def _rows(data: Any) -> list[dict]:
    records = getattr(data, "records", None)
    if records is not None and not callable(records):  # an evaluation dataset
        data = [r if isinstance(r, dict) else r.to_dict() for r in records]
    elif hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame
        data = data.to_dict(orient="records")
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes, dict)):
        raise InvalidParameterError(
            "data must be a list of dicts, a DataFrame or an evaluation dataset, each row "
            "with 'inputs' (a dict) and optionally 'outputs' and 'expectations'.")
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, dict) or not isinstance(row.get("inputs"), dict):
            raise InvalidParameterError(
                f"Row {i} needs 'inputs' as a dict of the app's arguments, e.g. "
                "{'inputs': {'question': '...'}}.")
        expectations = row.get("expectations")
        if expectations is not None and not isinstance(expectations, dict):
            raise InvalidParameterError(f"Row {i}: 'expectations' must be a dict.")
        rows.append({"inputs": row["inputs"], "outputs": row.get("outputs"),
                     "expectations": expectations})
    if not rows:
        raise InvalidParameterError("The evaluation data has no rows.")
    return rows


def _scorers(scorers: Any) -> list[Scorer]:
    out = []
    for s in scorers or []:
        if isinstance(s, Scorer):
            out.append(s)
        elif callable(s):
            out.append(scorer(s))
        else:
            raise InvalidParameterError(
                f"{s!r} is not a scorer: use @kf.genai.scorer functions or kf.genai judges.")
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidParameterError(f"Two scorers are named {dupes}; pass name= to tell them apart.")
    return out


# -- running ---------------------------------------------------------------------------
def _trace_row(index: int, row: dict, predict_fn: Callable | None, run_id: str) -> RowResult:
    from ..tracing import start_span, update_current_trace

    result = RowResult(index, None, row["inputs"], row["outputs"], row["expectations"])
    name = getattr(predict_fn, "__name__", None) or "evaluation_row"
    try:
        with start_span(name, span_type="CHAIN") as span:
            result.trace_id = span.trace_id
            span.set_inputs(row["inputs"])
            update_current_trace(tags={"kernelflow.eval.run_id": run_id,
                                       "kernelflow.eval.row": str(index)})
            if predict_fn is not None:
                result.outputs = predict_fn(**row["inputs"])
            span.set_outputs(result.outputs)
    except Exception as exc:  # the app failed on this row: the trace keeps the error
        result.error = f"predict_fn failed: {type(exc).__name__}: {exc}"
    return result


def _score(scorer_: Scorer, row: RowResult, trace: Any) -> list[Feedback]:
    if row.error:
        return [Feedback(name=scorer_.name, error=row.error, source_type=scorer_.source_type,
                         source_id=scorer_.source_id)]
    fields = {"inputs": row.inputs, "outputs": row.outputs,
              "expectations": row.expectations or {}, "trace": trace}
    try:
        return scorer_.run(fields)
    except Exception as exc:  # one row's judge failing must not fail the evaluation
        message = exc.message if isinstance(exc, KernelflowError) else \
            f"{type(exc).__name__}: {exc}"
        return [Feedback(name=scorer_.name, error=message,
                         source_type=scorer_.source_type, source_id=scorer_.source_id)]


def _log_feedback(client: Any, run_id: str, row: RowResult, fb: Feedback) -> None:
    error = {"error_code": "SCORER_ERROR", "error_message": fb.error} if fb.error else None
    client.log_feedback(row.trace_id, fb.name, fb.value, rationale=fb.rationale,
                        source_type=fb.source_type, source_id=fb.source_id, error=error,
                        metadata=fb.metadata, run_id=run_id)


def evaluate(data: Any, predict_fn: Callable | None = None, scorers: list | None = None, *,
             max_workers: int = 8, run_name: str | None = None) -> GenAIEvaluationResult:
    """Evaluate a GenAI app (or given outputs) row by row with scorers and LLM judges.

    Args:
        data: a list of dicts, a DataFrame or an evaluation dataset; each row has
            ``inputs`` (a dict of the app's keyword arguments), optionally ``outputs``
            (when there is no ``predict_fn``) and ``expectations`` (a dict, such as
            ``{"expected_response": "..."}``).
        predict_fn: the app: called as ``predict_fn(**inputs)`` per row, traced.
        scorers: ``@kf.genai.scorer`` functions and judges (``kf.genai.Correctness(...)``).
        max_workers: how many rows (and judge calls) run at once.
        run_name: the name of the run created when none is active.

    Returns:
        A :class:`GenAIEvaluationResult`: ``metrics``, ``rows``, ``result_df``, ``run_id``.
    """
    from ..client import default_client
    from ..evaluation.runs import evaluation_run

    source = _dataset_source(data)
    rows = _rows(data)
    scorer_list = _scorers(scorers)
    if predict_fn is None and all(r["outputs"] is None for r in rows):
        raise InvalidParameterError(
            "Give outputs in the rows, or a predict_fn that produces them from the inputs.")
    if max_workers < 1:
        raise InvalidParameterError(f"max_workers must be 1 or more, got {max_workers}.")
    client = default_client()
    with evaluation_run(run_name or "genai-evaluation") as run_id, \
            ThreadPoolExecutor(max_workers, "kf-genai-eval") as pool:
        results = list(pool.map(lambda ir: _trace_row(ir[0], ir[1], predict_fn, run_id),
                                enumerate(rows)))
        client.flush()
        for r in results:
            for key, value in (r.expectations or {}).items():
                if r.trace_id is not None:
                    client.log_expectation(r.trace_id, key, value, source_type="HUMAN",
                                           run_id=run_id)
        wants_trace = any(getattr(s, "needs_trace", False) for s in scorer_list)
        traced = [r.trace_id for r in results if r.trace_id is not None] if wants_trace else []
        traces = {t.info.trace_id: t for t in client.get_traces(traced)}
        jobs = [(r, s) for r in results for s in scorer_list]

        def work(job):
            row, s = job
            feedbacks = _score(s, row, traces.get(row.trace_id))
            for fb in feedbacks:
                _log_feedback(client, run_id, row, fb)
            return row, feedbacks

        for row, feedbacks in pool.map(work, jobs):
            for fb in feedbacks:
                row.feedback[fb.name] = fb
        metrics = _aggregate(results)
        if metrics:
            client.log_batch(run_id, metrics=_metric_list(metrics), synchronous=True)
        client.log_dict(run_id, _table(results), RESULTS_TABLE)
        client.set_tag(run_id, EVAL_TAG, "genai")
        app = getattr(predict_fn, "__name__", "predict_fn") if predict_fn else "given outputs"
        client.set_tag(run_id, f"{EVAL_TAG}.model", app)
        if source is not None:
            client.log_inputs(run_id, [source])
    return GenAIEvaluationResult(run_id, metrics, results)


def _dataset_source(data: Any):
    """An evaluation dataset (or one version of it) as the run's input: name and digest."""
    dataset_id, digest = getattr(data, "dataset_id", None), getattr(data, "digest", None)
    if not (isinstance(dataset_id, str) and isinstance(digest, str)):
        return None
    from ..store.datasets import Dataset, DatasetInput

    source = json.dumps({"dataset_id": dataset_id})
    return DatasetInput(Dataset(str(data.name), digest, "evaluation_dataset", source),
                        {"mlflow.data.context": "evaluation"})


def _aggregate(rows: list[RowResult]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for r in rows:
        for name, fb in r.feedback.items():
            number = None if fb.error else numeric(fb.value)
            if number is not None:
                values.setdefault(name, []).append(number)
    return {f"{name}/mean": sum(v) / len(v) for name, v in values.items() if v}


def _metric_list(metrics: dict[str, float]) -> list:
    import time

    from ..entities import Metric

    now = int(time.time() * 1000)
    return [Metric(k, float(v), now, 0) for k, v in metrics.items()]


def _table(rows: list[RowResult]) -> dict:
    records = table_records(rows)
    columns = list(dict.fromkeys(k for rec in records for k in rec))
    return {"columns": columns, "data": [[rec.get(c) for c in columns] for rec in records]}
