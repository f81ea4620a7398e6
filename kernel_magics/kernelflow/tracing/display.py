"""HTML for traces in the notebook: the span tree under a cell, and the ``%kf traces`` table.

Plain HTML with no JavaScript, so it works from the local SQLite file with no
server, in JupyterLab, VS Code and saved notebooks alike. Each span is a row
with its timing bar, status, type, duration, tokens and cost; clicking it
(``<details>``) shows its inputs, outputs, attributes and events. Every user
string goes through ``html.escape``: a span name is text, never markup.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from .entities import Span, Trace, TraceInfo

MAX_SHOWN_CHARS = 4000
_STATUS = {"OK": ("✓", "#1a7f37"), "ERROR": ("✗", "#cf222e"), "UNSET": ("…", "#9a6700"),
           "IN_PROGRESS": ("…", "#9a6700")}
_CSS = """<style>
.kf-trace{font:12px/1.4 system-ui,sans-serif;border:1px solid #d0d7de;border-radius:6px;margin:4px 0;max-width:980px}
.kf-trace-head{padding:4px 8px;background:#f6f8fa;border-bottom:1px solid #d0d7de}
.kf-trace details>summary{list-style:none;cursor:pointer;display:grid;grid-template-columns:minmax(180px,34%) 1fr 70px 110px;gap:6px;padding:1px 8px;align-items:center}
.kf-trace details>summary:hover{background:#f3f4f6}
.kf-trace .kf-bar{position:relative;height:10px;background:#eef1f4;border-radius:2px}
.kf-trace .kf-bar>span{position:absolute;top:0;bottom:0;border-radius:2px;background:#54aeff}
.kf-trace .kf-err>span{background:#ff8182}
.kf-trace .kf-type{color:#57606a;font-size:10px;margin-left:4px}
.kf-trace pre{margin:2px 8px 6px;padding:4px;background:#f6f8fa;max-height:240px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.kf-trace .kf-num{text-align:right;color:#57606a}
</style>"""


def _ms(ns: int | None) -> str:
    if ns is None:
        return "–"
    ms = ns / 1e6
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2f} ms"


def _pretty(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False,
                                                           default=repr)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[:MAX_SHOWN_CHARS] + f"\n… ({len(text)} characters in all)"
    return escape(text)


def span_order(spans: list[Span]) -> list[tuple[Span, int]]:
    """Spans depth-first in start order, each with its depth (roots and orphans at 0)."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for s in sorted(spans, key=lambda s: s.start_time_ns):
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    out: list[tuple[Span, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in children.get(parent, ()):
            out.append((s, depth))
            walk(s.span_id, depth + 1)

    walk(None, 0)
    return out


def _usage(span: Span) -> str:
    parts = []
    usage = span.attributes.get("mlflow.chat.tokenUsage")
    if isinstance(usage, dict) and usage.get("total_tokens") is not None:
        parts.append(f"{usage['total_tokens']} tok")
    cost = span.attributes.get("mlflow.llm.cost")
    if isinstance(cost, dict) and cost.get("total_cost"):
        parts.append(f"${cost['total_cost']:.5f}")
    return " · ".join(parts)


def _span_row(span: Span, depth: int, t0: int, total: int) -> str:
    icon, colour = _STATUS.get(span.status, ("?", "#57606a"))
    end = span.end_time_ns or span.start_time_ns
    left = 100 * (span.start_time_ns - t0) / total
    width = max(100 * (end - span.start_time_ns) / total, 0.5)
    bar_class = "kf-bar kf-err" if span.status == "ERROR" else "kf-bar"
    body = [f"<b>inputs</b><pre>{_pretty(span.inputs)}</pre>",
            f"<b>outputs</b><pre>{_pretty(span.outputs)}</pre>"]
    if span.attributes:
        body.append(f"<b>attributes</b><pre>{_pretty(span.attributes)}</pre>")
    if span.events:
        body.append(f"<b>events</b><pre>{_pretty(span.events)}</pre>")
    if span.status_message:
        body.append(f"<b>status</b><pre>{escape(span.status_message)}</pre>")
    return (
        f'<details class="kf-span"><summary>'
        f'<span style="padding-left:{depth * 14}px"><span style="color:{colour}">{icon}</span> '
        f'<span class="kf-span-name">{escape(span.name)}</span>'
        f'<span class="kf-type">{escape(span.span_type or "")}</span></span>'
        f'<span class="{bar_class}"><span style="left:{left:.2f}%;width:{width:.2f}%"></span></span>'
        f'<span class="kf-num">{_ms(end - span.start_time_ns if span.end_time_ns else None)}</span>'
        f'<span class="kf-num">{escape(_usage(span))}</span>'
        f'</summary>{"".join(body)}</details>'
    )


def _head(info: TraceInfo) -> str:
    icon, colour = _STATUS.get(info.state, ("?", "#57606a"))
    bits = [f'<b class="kf-trace-name">{escape(info.name or info.trace_id)}</b>',
            f'<span style="color:{colour}">{icon} {escape(info.state)}</span>',
            f"{info.execution_duration if info.execution_duration is not None else '–'} ms"]
    if info.token_usage:
        bits.append(f"{info.token_usage.get('total_tokens', 0)} tokens")
    if info.cost and info.cost.get("total_cost"):
        bits.append(f"${info.cost['total_cost']:.5f}")
    if info.run_id:
        bits.append(f"run {escape(info.run_id[:8])}")
    bits.append(f'<code class="kf-trace-id">{escape(info.trace_id)}</code>')
    return '<div class="kf-trace-head">' + " · ".join(bits) + "</div>"


def trace_html(traces: list[Trace]) -> str:
    """The span trees of some traces, as self-contained HTML."""
    parts = [_CSS]
    for trace in traces:
        spans = trace.data.spans
        if spans:
            t0 = min(s.start_time_ns for s in spans)
            t1 = max((s.end_time_ns or s.start_time_ns) for s in spans)
            total = max(t1 - t0, 1)
            rows = "".join(_span_row(s, d, t0, total) for s, d in span_order(spans))
        else:
            rows = '<div style="padding:4px 8px">no spans</div>'
        parts.append(f'<div class="kf-trace" data-trace-id="{escape(trace.info.trace_id)}">'
                     f"{_head(trace.info)}{rows}</div>")
    return "".join(parts)


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def traces_table_html(infos: list[TraceInfo]) -> str:
    """A table of trace infos: name, status, duration, tokens, cost, run, time, id."""
    head = "".join(f"<th>{h}</th>" for h in
                   ("name", "status", "duration", "tokens", "cost", "run", "time", "trace id"))
    rows = []
    for i in infos:
        tokens = (i.token_usage or {}).get("total_tokens", "")
        cost = (i.cost or {}).get("total_cost")
        rows.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in (
                escape(i.name or ""), escape(i.state),
                f"{i.execution_duration} ms" if i.execution_duration is not None else "–",
                tokens, f"${cost:.5f}" if cost else "", escape((i.run_id or "")[:8]),
                _when(i.request_time), f"<code>{escape(i.trace_id)}</code>")) + "</tr>")
    if not rows:
        return "<p>No traces match.</p>"
    return (f'<table class="kf-traces"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


class TracesView:
    """What ``%kf traces`` returns: trace infos shown as an HTML table (a list underneath)."""

    def __init__(self, infos: list[TraceInfo]) -> None:
        self.infos = list(infos)

    def __len__(self) -> int:
        return len(self.infos)

    def _repr_html_(self) -> str:
        return traces_table_html(self.infos)

    def __repr__(self) -> str:
        lines = [f"{i.trace_id}  {i.state:5}  {i.execution_duration} ms  {i.name}"
                 for i in self.infos]
        return "\n".join(lines) or "No traces match."


class TraceTree:
    """One or more traces shown as span trees (``_repr_html_``)."""

    def __init__(self, traces: list[Trace]) -> None:
        self.traces = list(traces)

    def _repr_html_(self) -> str:
        return trace_html(self.traces)

    def __repr__(self) -> str:
        lines = []
        for t in self.traces:
            lines.append(f"{t.info.trace_id} {t.info.state} {t.info.name}")
            for span, depth in span_order(t.data.spans):
                lines.append(f"{'  ' * (depth + 1)}{span.name} [{span.span_type}] {span.status} "
                             f"{_ms((span.end_time_ns or span.start_time_ns) - span.start_time_ns)}")
        return "\n".join(lines)
