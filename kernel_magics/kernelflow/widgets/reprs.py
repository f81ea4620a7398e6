"""Rich reprs for entities, so an object left at the end of a cell shows well.

Plain functions over the entities (no ipywidgets): ``entities.py`` can make
``Run._repr_html_`` return ``run_html(self)`` and so on.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from . import _fmt

MAX_COLUMNS = 12


def _kv_table(title: str, items: dict[str, Any], sort: bool = True) -> str:
    """A titled two-column table; keys and values are escaped (``_fmt.Safe`` values are markup)."""
    if not items:
        return ""
    pairs = sorted(items.items()) if sort else items.items()
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_fmt.value(v)}</td></tr>"
                   for k, v in pairs)
    return (f"<div style='display:inline-block;vertical-align:top;margin-right:16px'>"
            f"<b>{html.escape(title)}</b><table class='kf-table'>{rows}</table></div>")


def run_html(run: Any) -> str:
    """A run: name in its chart colour, status, timing, then params, metrics and user tags."""
    i = run.info
    head = (f"<div style='font:13px var(--jp-ui-font-family,sans-serif);margin-bottom:4px;"
            f"color:var(--jp-ui-font-color1,#222)'>"
            f"{_fmt.run_name_cell(i.run_name, i.run_id)} <code>{html.escape(i.run_id)}</code> · "
            f"{_fmt.status_badge(i.status)} · experiment {html.escape(str(i.experiment_id))} · "
            f"started {_fmt.ago(i.start_time)} · {_fmt.duration(i.start_time, i.end_time)}</div>")
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith(("mlflow.", "kernelflow."))}
    body = (_kv_table("Params", run.data.params) + _kv_table("Metrics", run.data.metrics)
            + _kv_table("Tags", tags))
    return f"{_fmt.TABLE_STYLE}<div class='kernelflow-run'>{head}{body}</div>"


def run_text(run: Any) -> str:
    """One line per run: name, id, status, latest metrics."""
    i = run.info
    metrics = ", ".join(f"{k}={_fmt.format_number_or_blank(v)}"
                        for k, v in sorted(run.data.metrics.items()))
    return f"Run {i.run_name!r} ({i.run_id}) {i.status}" + (f" · {metrics}" if metrics else "")


def runs_html(runs: Sequence[Any], metric_keys: list[str] | None = None,
              param_keys: list[str] | None = None, pick: bool = False,
              link: str | None = None) -> str:
    """Runs as one table (search results): a row per run, grouped metric and param columns.

    Args:
        runs: the runs, one row each.
        metric_keys: metric columns (default: every metric, up to 12).
        param_keys: param columns (default: every param, up to 12).
        pick: start each row with a checkbox (``input.kf-pick``, ``data-run`` = run id).
        link: a dashboard's root URL: run names link to the run's page there.
    """
    if not runs:
        return "<p class='kf-empty'>No runs match.</p>"
    mkeys = metric_keys if metric_keys is not None else _keys(runs, "metrics")
    pkeys = param_keys if param_keys is not None else _keys(runs, "params")
    fixed = ["run", "id", "status", "started", "duration"]
    lead = ["<input type='checkbox' class='kf-pick-all' title='select all'>"] if pick else []
    if mkeys or pkeys:
        span = " rowspan='2'"
        groups = "".join(f"<th class='kf-group' colspan='{len(keys)}'>{title}</th>"
                         for title, keys in (("Metrics", mkeys), ("Params", pkeys)) if keys)
        top = "".join(f"<th{span}>{h}</th>" for h in lead + [html.escape(h) for h in fixed])
        head = (f"<tr>{top}{groups}</tr><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in mkeys + pkeys) + "</tr>")
    else:
        head = "<tr>" + "".join(f"<th>{h}</th>" for h in lead + fixed) + "</tr>"
    rows = "".join(_run_row(r, mkeys, pkeys, pick, link) for r in runs)
    return f"{_fmt.TABLE_STYLE}<table class='kf-table kf-runs'>{head}{rows}</table>"


def _keys(runs: Sequence[Any], kind: str) -> list[str]:
    return sorted({k for r in runs for k in getattr(r.data, kind)})[:MAX_COLUMNS]


def _run_row(r: Any, mkeys: list[str], pkeys: list[str], pick: bool = False,
             link: str | None = None) -> str:
    i = r.info
    rid = html.escape(i.run_id, quote=True)
    name = _fmt.run_name_cell(i.run_name, i.run_id)
    if link:
        href = html.escape(f"{link.rstrip('/')}/run?id={quote(i.run_id)}", quote=True)
        name = f"<a href='{href}' target='_blank' class='kf-run-link'>{name}</a>"
    cells = [f"<input type='checkbox' class='kf-pick' data-run='{rid}'>"] if pick else []
    cells += [name, f"<code>{html.escape(i.run_id[:8])}</code>",
              _fmt.status_badge(i.status), _fmt.ago(i.start_time),
              _fmt.duration(i.start_time, i.end_time)]
    cells += [_fmt.value(r.data.metrics[k]) if k in r.data.metrics else "" for k in mkeys]
    cells += [_fmt.value(r.data.params[k]) if k in r.data.params else "" for k in pkeys]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def experiment_html(exp: Any) -> str:
    """An experiment: name, id, stage, artifact location, tags."""
    rows = {"id": exp.experiment_id, "lifecycle stage": exp.lifecycle_stage,
            "artifact location": exp.artifact_location, "created": _fmt.ago(exp.creation_time)}
    return (f"{_fmt.TABLE_STYLE}<div class='kernelflow-experiment' style='{_fmt.BOX_STYLE}'>"
            f"<b>Experiment {html.escape(exp.name)}</b>{_kv_table('', rows)}"
            f"{_kv_table('Tags', exp.tags)}</div>")


def experiment_text(exp: Any) -> str:
    """``Experiment 'name' (id 3, active)``."""
    return f"Experiment {exp.name!r} (id {exp.experiment_id}, {exp.lifecycle_stage})"


def model_version_html(mv: Any) -> str:
    """A model version: name, version, aliases, stage, status, source run, how to load it."""
    aliases = _fmt.Safe(" ".join(f"<code>@{html.escape(a)}</code>" for a in sorted(mv.aliases)))
    load = html.escape(f"kernelflow.load_model({f'models:/{mv.name}/{mv.version}'!r})")
    rows = {"aliases": aliases, "stage": _fmt.stage_label(mv.current_stage), "status": mv.status,
            "run": mv.run_id or "", "source": mv.source or "",
            "created": _fmt.ago(mv.creation_timestamp), "description": mv.description or ""}
    return (f"{_fmt.TABLE_STYLE}<div class='kernelflow-model-version' style='{_fmt.BOX_STYLE}'>"
            f"<b>{html.escape(mv.name)}</b> version <b>{html.escape(str(mv.version))}</b> · "
            f"load with <code>{load}</code>{_kv_table('', rows, sort=False)}</div>")


def model_version_text(mv: Any) -> str:
    """``ModelVersion iris v2 @champion (READY)``."""
    aliases = "".join(f" @{a}" for a in sorted(mv.aliases))
    return f"ModelVersion {mv.name} v{mv.version}{aliases} ({mv.status})"


def registered_model_html(model: Any) -> str:
    """A registered model: its aliases and latest versions."""
    aliases = {f"@{a}": f"version {v}" for a, v in model.aliases.items()}
    latest = {f"v{v.version}": _fmt.stage_label(v.current_stage) for v in model.latest_versions}
    return (f"{_fmt.TABLE_STYLE}<div class='kernelflow-registered-model' style='{_fmt.BOX_STYLE}'>"
            f"<b>Registered model {html.escape(model.name)}</b> "
            f"{html.escape(model.description or '')}<br>{_kv_table('Aliases', aliases)}"
            f"{_kv_table('Latest versions', latest)}</div>")
