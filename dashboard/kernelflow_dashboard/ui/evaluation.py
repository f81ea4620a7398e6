"""The evaluation page (``/evaluation``): what ``kf.evaluate`` and ``kf.genai.evaluate`` logged.

``/evaluation`` lists the evaluation runs (tagged ``kernelflow.evaluation``).
``/evaluation?run=ID`` shows one: its metrics, its plots (classic evaluation) and,
for GenAI evaluation, the per-row table from ``eval_results_table.json`` with each
scorer's value (the rationale on hover, errors in red) and a link to each row's
trace. ``&compare=ID2`` puts a second evaluation beside it and lists the rows whose
verdict changed. Only public Client methods are used.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import esc, format_value, relative_time

EVAL_TAG = "kernelflow.evaluation"
MAX_ROWS = 2000  # rows drawn in the per-row table (changes are computed over all)
RESULTS_TABLE = "eval_results_table.json"
PLOTS = ("confusion_matrix.png", "roc_curve_plot.png", "precision_recall_curve_plot.png",
         "residuals_plot.png")
EVAL_CSS = """
.kf-eval-table td.kf-changed { background: #fff4e5; }
.kf-verdict-error { color: #b00020; }
.kf-eval-plots img { max-width: 360px; margin: 4px 8px 4px 0; border: 1px solid #e3e6ea;
  border-radius: 4px; }
"""


# -- reading -----------------------------------------------------------------------------
def load_table(client: Any, run_id: str) -> dict | None:
    """The run's ``eval_results_table.json`` (``{"columns", "data"}``), or None."""
    try:
        path = client.download_artifacts(run_id, RESULTS_TABLE)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (KernelflowError, OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and "columns" in doc and "data" in doc else None


def table_rows(doc: dict | None) -> list[dict]:
    """The table's rows as dicts."""
    if not doc:
        return []
    return [dict(zip(doc["columns"], row, strict=False)) for row in doc["data"]]


def scorer_names(rows: list[dict]) -> list[str]:
    """Scorer names, in the table's order (from ``<name>/value`` columns)."""
    names: list[str] = []
    for row in rows:
        for key in row:
            if key.endswith("/value") and key[:-6] not in names:
                names.append(key[:-6])
    return names


def row_key(row: dict) -> str:
    """What identifies a row across two evaluations: its inputs."""
    return json.dumps(row.get("inputs"), sort_keys=True, default=str)


def verdict_changes(rows_a: list[dict], rows_b: list[dict]) -> list[dict]:
    """Rows (matched by inputs) whose value for some scorer differs between A and B."""
    by_key = {row_key(r): r for r in rows_b}
    changes = []
    for a in rows_a:
        b = by_key.get(row_key(a))
        if b is None:
            continue
        for name in scorer_names([a, b]):
            va, vb = _verdict(a, name), _verdict(b, name)
            if va != vb:
                changes.append({"inputs": a.get("inputs"), "scorer": name, "a": va, "b": vb,
                                "trace_a": a.get("trace_id"), "trace_b": b.get("trace_id")})
    return changes


def _verdict(row: dict, name: str) -> str:
    if row.get(f"{name}/error"):
        return "error"
    value = row.get(f"{name}/value")
    return "" if value is None else str(value)


# -- HTML --------------------------------------------------------------------------------
def _short(value: Any, limit: int = 140) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _trace_link(trace_id: str | None) -> str:
    if not trace_id:
        return ""
    href = shell.url("traces", trace_id=trace_id)
    return f'<a class="kf-trace-link" href="{esc(href)}">{esc(trace_id[:12])}…</a>'


def _cell(row: dict, name: str, changed: bool = False) -> str:
    cls = ' class="kf-changed"' if changed else ""
    error = row.get(f"{name}/error")
    if error:
        return (f'<td{cls}><span class="kf-verdict kf-verdict-error" title="{esc(error)}">'
                "error</span></td>")
    value = row.get(f"{name}/value")
    tip = row.get(f"{name}/rationale") or ""
    return (f'<td{cls}><span class="kf-verdict" title="{esc(tip)}">'
            f"{esc('' if value is None else value)}</span></td>")


def rows_html(rows: list[dict], changed: set[tuple[str, str]] | None = None) -> str:
    """The per-row table: row, inputs, outputs, one column per scorer, the trace link."""
    names = scorer_names(rows)
    changed = changed or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in ["row", "inputs", "outputs", *names, "trace"])
    body = []
    for r in rows[:MAX_ROWS]:
        key = row_key(r)
        cells = [f"<td>{esc(r.get('row', ''))}</td>", f"<td>{esc(_short(r.get('inputs')))}</td>",
                 f"<td>{esc(_short(r.get('outputs')))}</td>"]
        cells += [_cell(r, n, (key, n) in changed) for n in names]
        cells.append(f"<td>{_trace_link(r.get('trace_id'))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = (f'<p class="kf-muted">Showing the first {MAX_ROWS} of {len(rows)} rows.</p>'
            if len(rows) > MAX_ROWS else "")
    return (f'<div class="kf-scroll"><table class="kf-kv kf-eval-table"><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>{more}")


def changes_html(changes: list[dict], name_a: str, name_b: str) -> str:
    """The rows whose verdict changed between two evaluations."""
    if not changes:
        return '<p class="kf-muted kf-no-changes">No row changed verdict.</p>'
    head = (f"<tr><th>inputs</th><th>scorer</th><th>{esc(name_a)}</th><th>{esc(name_b)}</th>"
            "<th>traces</th></tr>")
    body = "".join(
        f"<tr class='kf-change'><td>{esc(_short(c['inputs']))}</td><td>{esc(c['scorer'])}</td>"
        f"<td>{esc(c['a'])}</td><td>{esc(c['b'])}</td>"
        f"<td>{_trace_link(c['trace_a'])} {_trace_link(c['trace_b'])}</td></tr>"
        for c in changes)
    return (f'<p class="kf-muted">{len(changes)} verdict(s) changed.</p>'
            f'<table class="kf-kv kf-eval-changes"><thead>{head}</thead><tbody>{body}</tbody>'
            "</table>")


def metrics_html(metrics: dict[str, float], other: dict[str, float] | None = None) -> str:
    """The run's metrics (and the compared run's beside them)."""
    head = "<tr><th>metric</th><th>value</th>" + ("<th>compared</th>" if other is not None
                                                  else "") + "</tr>"
    rows = []
    for k in sorted(set(metrics) | set(other or {})):
        cells = f"<td>{esc(k)}</td><td>{esc(format_value(metrics.get(k, '')))}</td>"
        if other is not None:
            cells += f"<td>{esc(format_value(other.get(k, '')))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="kf-kv kf-eval-metrics"><thead>{head}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def plots_html(client: Any, run_id: str) -> str:
    """The evaluation's PNG plots, inline."""
    try:
        names = {f.path for f in client.list_artifacts(run_id)}
    except KernelflowError:
        return ""
    images = []
    for name in PLOTS:
        if name in names:
            with open(client.download_artifacts(run_id, name), "rb") as f:
                data = base64.b64encode(f.read()).decode()
            images.append(f'<img src="data:image/png;base64,{data}" alt="{esc(name)}" '
                          f'title="{esc(name)}">')
    return f'<div class="kf-eval-plots">{"".join(images)}</div>' if images else ""


# -- pages -------------------------------------------------------------------------------
def _html(text: str) -> pn.pane.HTML:
    return pn.pane.HTML(text, stylesheets=[shell.CSS, EVAL_CSS], sizing_mode="stretch_width")


def evaluation_runs(client: Any, limit: int = 200) -> list:
    """The newest evaluation runs of every experiment."""
    ids = [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    return list(client.search_runs(ids, filter_string=f"tags.`{EVAL_TAG}` LIKE '%'",
                                   max_results=limit))


def _list_page(client: Any) -> pn.viewable.Viewable:
    runs = evaluation_runs(client)
    if not runs:
        note = ('<p class="kf-muted">No evaluations yet. Run <code>kf.evaluate(model, data, '
                'targets="label", model_type="classifier")</code> or <code>kf.genai.evaluate('
                "data, predict_fn, scorers)</code> in a notebook.</p>")
        return shell.page("evaluation", shell.header("Evaluation"), _html(note))
    rows = []
    for r in runs:
        kind = r.data.tags.get(EVAL_TAG, "")
        model = r.data.tags.get(f"{EVAL_TAG}.model", "")
        href = shell.url("evaluation", run=r.info.run_id)
        main = ", ".join(f"{esc(k)}={esc(format_value(v))}"
                         for k, v in sorted(r.data.metrics.items())[:4])
        rows.append(f"<tr><td><a class='kf-eval-run' href='{esc(href)}'>"
                    f"{esc(r.info.run_name)}</a></td><td>{esc(kind)}</td><td>{esc(model)}</td>"
                    f"<td>{relative_time(r.info.start_time)}</td><td>{main}</td></tr>")
    table = ("<table class='kf-kv kf-eval-runs'><thead><tr><th>run</th><th>kind</th><th>model</th>"
             f"<th>started</th><th>metrics</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return shell.page("evaluation", shell.header("Evaluation"), _html(table))


def compare_links(client: Any, run: Any, limit: int = 10) -> str:
    """Links that put this evaluation beside another of the same kind and experiment."""
    kind = run.data.tags.get(EVAL_TAG, "")
    others = client.search_runs([run.info.experiment_id], max_results=limit + 1,
                                filter_string=f"tags.`{EVAL_TAG}` = '{kind}'")
    links = [f'<a class="kf-compare-with" href="'
             f'{esc(shell.url("evaluation", run=run.info.run_id, compare=o.info.run_id))}">'
             f"{esc(o.info.run_name)}</a>"
             for o in others if o.info.run_id != run.info.run_id][:limit]
    if not links:
        return ""
    return f'<div class="kf-muted kf-compare-links">Compare with: {" · ".join(links)}</div>'


def _run_view(client: Any, run_id: str, other_id: str | None) -> pn.viewable.Viewable:
    run = client.get_run(run_id)
    other = client.get_run(other_id) if other_id else None
    crumbs = [(shell.url("evaluation"), "Evaluation"),
              (shell.url("run", id=run_id), run.info.run_name)]
    title = run.info.run_name + (f" vs {other.info.run_name}" if other else "")
    parts: list = [shell.header(title, crumbs)]
    if other is None:
        links = compare_links(client, run)
        if links:
            parts.append(_html(links))
    parts.append(_html("<h3>Metrics</h3>" + metrics_html(
        run.data.metrics, other.data.metrics if other else None)))
    plots = plots_html(client, run_id)
    if plots:
        parts.append(_html("<h3>Plots</h3>" + plots + (plots_html(client, other_id)
                                                       if other_id else "")))
    rows = table_rows(load_table(client, run_id))
    if rows:
        changed: set = set()
        if other is not None:
            other_rows = table_rows(load_table(client, other_id))
            changes = verdict_changes(rows, other_rows)
            changed = {(row_key({"inputs": c["inputs"]}), c["scorer"]) for c in changes}
            parts.append(_html("<h3>Rows that changed verdict</h3>" + changes_html(
                changes, run.info.run_name, other.info.run_name)))
        parts.append(_html(f"<h3>Rows ({len(rows)})</h3>" + rows_html(rows, changed)))
    return shell.page("evaluation", *parts, experiment=run.info.experiment_id)


def evaluation_page() -> pn.viewable.Viewable:
    """Build the evaluation page (a list, one evaluation, or two side by side)."""
    client = shell.client()
    run_id, other_id = shell.arg("run"), shell.arg("compare")
    try:
        if not run_id:
            return _list_page(client)
        return _run_view(client, run_id, other_id or None)
    except KernelflowError as exc:
        return shell.page("evaluation", shell.header("Evaluation"), shell.error_box(exc.message))
