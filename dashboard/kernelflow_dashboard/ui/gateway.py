"""The Gateway page (``/gateway``): LLM gateway calls, routes and keys, from the store.

``kernelflow gateway`` records one row per call (route, provider, model, key name,
status, latency, tokens, cost, trace id) and its keys (hashed) in the tracking file.
This page only reads those rows through the public Client; it never imports the
gateway. It shows calls per minute per route (HoloViews), per-route latency
percentiles, error rates, tokens and cost, the same per key, and the recent calls
with links to their traces.
"""

from __future__ import annotations

import time

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import esc, relative_time

WINDOW_MS = 3600 * 1000  # the page looks at the last hour
RECENT = 50


def calls_frame(calls: list[dict]) -> pd.DataFrame:
    """The call records as a DataFrame (empty with the right columns when there are none)."""
    columns = ["call_id", "time", "route", "provider", "model", "key_name", "status",
               "latency_ms", "prompt_tokens", "completion_tokens", "cost", "trace_id", "error"]
    frame = pd.DataFrame(calls, columns=columns) if calls else pd.DataFrame(columns=columns)
    for col in ("latency_ms", "prompt_tokens", "completion_tokens", "cost", "status"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0)
    return frame


def summary(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Calls, calls/min, p50/p95 latency, error rate, tokens and cost per ``by`` value."""
    if frame.empty:
        return pd.DataFrame(columns=[by, "calls", "calls/min", "p50 ms", "p95 ms", "errors %",
                                     "tokens", "cost $"])
    minutes = max(1.0, (frame["time"].max() - frame["time"].min()) / 60_000)
    rows = []
    for value, group in frame.fillna({by: "(no key)"}).groupby(by, sort=True):
        rows.append({
            by: value, "calls": len(group), "calls/min": round(len(group) / minutes, 2),
            "p50 ms": round(group["latency_ms"].quantile(0.5), 1),
            "p95 ms": round(group["latency_ms"].quantile(0.95), 1),
            "errors %": round(100 * (group["status"] >= 400).mean(), 1),
            "tokens": int(group["prompt_tokens"].sum() + group["completion_tokens"].sum()),
            "cost $": round(float(group["cost"].sum()), 6),
        })
    return pd.DataFrame(rows)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""  # pandas holds a missing text as NaN


def recent_html(frame: pd.DataFrame, now_ms: float | None = None) -> str:
    """The most recent calls as an HTML table, each linking to its trace."""
    rows = []
    for _, c in frame.head(RECENT).iterrows():
        trace_id = _text(c.trace_id)
        trace = (f'<a class="kf-trace-link" href="{esc(shell.url("traces", trace_id=trace_id))}">'
                 f"{esc(trace_id)}</a>" if trace_id else "")
        status_class = "kf-failed" if c.status >= 400 else "kf-ok"
        rows.append(
            f"<tr><td>{relative_time(int(c.time), now_ms)}</td><td>{esc(_text(c.route))}</td>"
            f"<td>{esc(_text(c.provider))}/{esc(_text(c.model))}</td><td>{esc(_text(c.key_name))}</td>"
            f'<td class="{status_class}">{int(c.status)}</td><td>{c.latency_ms:.0f} ms</td>'
            f"<td>{int(c.prompt_tokens + c.completion_tokens)}</td><td>{trace}</td>"
            f"<td>{esc(_text(c.error)[:120])}</td></tr>")
    head = ("<tr><th>When</th><th>Route</th><th>Model</th><th>Key</th><th>Status</th>"
            "<th>Latency</th><th>Tokens</th><th>Trace</th><th>Error</th></tr>")
    return f'<table class="kf-kv kf-gateway-calls">{head}{"".join(rows)}</table>'


def _table(frame: pd.DataFrame, css: str) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(frame, show_index=False, disabled=True, selectable=False,
                                layout="fit_data_stretch", sizing_mode="stretch_width",
                                css_classes=[css], stylesheets=[shell.CSS, shell.TABLE_CSS])


def _chart(frame: pd.DataFrame):
    import holoviews as hv

    hv.extension("bokeh", logo=False)
    per_minute = (frame.assign(minute=pd.to_datetime(frame["time"] // 60_000 * 60_000,
                                                     unit="ms"))
                  .groupby(["minute", "route"]).size().rename("calls").reset_index())
    chart = hv.Bars(per_minute, ["minute", "route"], "calls").opts(
        stacked=True, height=260, responsive=True, xrotation=45, tools=["hover"],
        title="Calls per minute by route", show_legend=True)
    return pn.pane.HoloViews(chart, sizing_mode="stretch_width", css_classes=["kf-gateway-chart"])


def _keys_frame(keys: list, by_key: pd.DataFrame) -> pd.DataFrame:
    usage = by_key.set_index("key_name") if not by_key.empty else None
    rows = []
    for k in keys:
        calls = int(usage.loc[k.name, "calls"]) if usage is not None and k.name in usage.index \
            else 0
        rows.append({"key": k.name, "prefix": k.prefix + "…", "spend $": round(k.spend, 6),
                     "budget $": k.budget if k.budget is not None else "-",
                     "rpm": k.rpm or "-", "routes": ", ".join(k.routes) or "all",
                     "calls (1 h)": calls, "last used": relative_time(k.last_used_time)})
    return pd.DataFrame(rows)


def gateway_page() -> pn.viewable.Viewable:
    """Build the Gateway page."""
    client = shell.client()
    header = shell.header("Gateway")
    try:
        since = int(time.time() * 1000) - WINDOW_MS
        frame = calls_frame(client.search_gateway_calls(since_ms=since, max_results=100_000))
        keys = client.list_gateway_keys()
    except KernelflowError as exc:
        return shell.page("gateway", header, shell.error_box(exc.message))
    if frame.empty and not keys:
        note = shell.html('<span class="kf-muted">No gateway calls in the last hour. Start a '
                          "gateway with <code>kernelflow gateway --config gateway.yaml</code> "
                          "or <code>%kf gateway --config gateway.yaml</code>.</span>")
        return shell.page("gateway", header, note)
    by_route, by_key = summary(frame, "route"), summary(frame, "key_name")
    parts = [header]
    if not frame.empty:
        parts += [_chart(frame), shell.html("<h3>Routes (last hour)</h3>"),
                  _table(by_route, "kf-gateway-routes")]
    if keys:
        parts += [shell.html("<h3>Keys</h3>"), _table(_keys_frame(keys, by_key),
                                                      "kf-gateway-keys")]
    if not frame.empty:
        parts += [shell.html("<h3>Recent calls</h3>"),
                  shell.html(f'<div class="kf-scroll">{recent_html(frame)}</div>')]
    return shell.page("gateway", *parts)
