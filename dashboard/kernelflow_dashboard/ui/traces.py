"""The traces pages: ``/traces`` (a list, paged in SQL) and ``/traces?trace_id=ID`` (one trace).

The list filters with the core search grammar (``trace.status = 'ERROR' AND
tags.env = 'prod'``), one experiment or all, 50 rows per page; its columns are
name, status, duration, tokens, cost, run and time. A trace's page shows its
summary, a waterfall timeline (HoloViews/Bokeh), the span tree with each span's
inputs, outputs, attributes and events (collapsible), its tags, metadata and
assessments. User strings are escaped everywhere: they are text, never HTML.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import absolute_time, esc, relative_time

PAGE_SIZE = 50
FILTER_HINT = "trace.status = 'ERROR' AND trace.execution_time_ms > 500 AND tags.env = 'prod'"
ALL = "All experiments"
COLUMNS = ["Name", "Status", "Duration", "Tokens", "Cost", "Run", "Time", "Trace ID"]
_STATUS = {"OK": ("✓", "ok"), "ERROR": ("✗", "failed"), "IN_PROGRESS": ("…", "running")}


def status_badge(state: str) -> str:
    """An escaped status badge."""
    icon, cls = _STATUS.get(state, ("?", "scheduled"))
    return f'<span class="kf-status kf-{cls}">{icon} {esc(state)}</span>'


def _tokens(info) -> str:
    usage = info.token_usage or {}
    return str(usage.get("total_tokens", "")) if usage else ""


def _cost(info) -> str:
    cost = (info.cost or {}).get("total_cost")
    return f"${cost:.5f}" if cost else ""


def traces_frame(infos: list, now_ms: float | None = None) -> pd.DataFrame:
    """One row per trace; names and ids are escaped inside their links."""
    now_ms = now_ms or time.time() * 1000
    rows = []
    for i in infos:
        name = i.name or i.trace_id
        link = f'<a class="kf-trace-link" href="{esc(shell.url("traces", trace_id=i.trace_id))}">' \
               f"{esc(name)}</a>"
        run = (f'<a href="{esc(shell.url("run", id=i.run_id))}">{esc(i.run_id[:8])}</a>'
               if i.run_id else "")
        took = f"{i.execution_duration} ms" if i.execution_duration is not None else "–"
        rows.append((link, status_badge(i.state), took, _tokens(i), _cost(i), run,
                     relative_time(i.request_time, now_ms), i.trace_id))
    return pd.DataFrame(rows, columns=COLUMNS)


class TracesList:
    """State and widgets of one session's traces list."""

    def __init__(self) -> None:
        self.client = shell.client()
        experiments = self.client.search_experiments(max_results=1000)
        self.names = {e.name: e.experiment_id for e in experiments}
        chosen = shell.arg("experiment", ALL)
        if shell.arg("experiment_id"):
            chosen = next((n for n, i in self.names.items() if i == shell.arg("experiment_id")),
                          chosen)
        self.experiment = pn.widgets.Select(name="Experiment", options=[ALL, *self.names],
                                            value=chosen if chosen in self.names else ALL,
                                            width=240)
        self.filter = pn.widgets.TextInput(name="Filter", value=shell.arg("filter"),
                                           placeholder=FILTER_HINT, sizing_mode="stretch_width",
                                           css_classes=["kf-trace-filter"])
        self.prev = pn.widgets.Button(name="‹ Newer", width=90, css_classes=["kf-prev"])
        self.next = pn.widgets.Button(name="Older ›", width=90, css_classes=["kf-next"])
        self.info = shell.html("")
        self.message = shell.html("")
        self.offset = 0
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS), show_index=False, disabled=True, sortable=False,
            selectable=False, layout="fit_data_stretch", sizing_mode="stretch_width",
            css_classes=["kf-traces"], stylesheets=[shell.CSS, shell.TABLE_CSS],
            formatters={"Name": {"type": "html"}, "Status": {"type": "html"},
                        "Run": {"type": "html"}, **{c: {"type": "plaintext"} for c in
                                                   ("Duration", "Tokens", "Cost", "Time",
                                                    "Trace ID")}})
        self.experiment.param.watch(lambda _: self._go(0), "value")
        self.filter.param.watch(lambda _: self._go(0), "value")
        self.prev.on_click(lambda _: self._go(max(self.offset - PAGE_SIZE, 0)))
        self.next.on_click(lambda _: self._go(self.offset + PAGE_SIZE))
        self._go(0)

    def _ids(self) -> list[str] | None:
        value = self.experiment.value
        return None if value == ALL else [self.names[value]]

    def _go(self, offset: int) -> None:
        from kernelflow.paging import encode_page_token

        flt = self.filter.value.strip() or None
        try:
            total = self.client.count_traces(self._ids(), flt)
            infos = self.client.search_traces(
                self._ids(), flt, PAGE_SIZE, page_token=encode_page_token(offset) if offset else None)
        except KernelflowError as exc:
            self.message.object = f'<div class="kf-error" role="alert">{esc(exc.message)}</div>'
            return
        self.message.object = ""
        self.offset = offset
        self.table.value = traces_frame(list(infos))
        last = min(offset + PAGE_SIZE, total)
        self.info.object = (f'<span class="kf-muted kf-trace-count">{offset + 1}–{last} of '
                            f"{total} traces</span>" if total else
                            '<span class="kf-muted kf-trace-count">No traces match. Record some with '
                            "<code>@kernelflow.trace</code> or <code>kf.litellm.autolog()</code>."
                            "</span>")
        self.prev.disabled = offset == 0
        self.next.disabled = last >= total

    def view(self) -> pn.viewable.Viewable:
        controls = pn.Row(self.experiment, self.filter, sizing_mode="stretch_width")
        pager = pn.Row(self.prev, self.next, self.info)
        return shell.page("traces", shell.header("Traces"), controls, self.message, pager,
                          self.table)


def run_traces(client, run_id: str) -> pn.viewable.Viewable:
    """The run page's Traces tab: the traces made in a run (the newest 100), as links."""
    try:
        infos = list(client.search_traces(max_results=100, run_id=run_id))
    except KernelflowError as exc:
        return shell.error_box(exc.message)
    if not infos:
        return shell.html('<span class="kf-muted">No traces were recorded in this run. Code '
                          "decorated with <code>@kernelflow.trace</code> and autologged LLM "
                          "calls made while the run is active show here.</span>")
    frame = traces_frame(infos).drop(columns=["Run"])
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{v if c in ('Name', 'Status') else esc(v)}</td>"
                                    for c, v in row.items()) + "</tr>"
                   for _, row in frame.iterrows())
    return shell.html(f'<table class="kf-kv kf-run-traces"><tr>{head}</tr>{body}</table>')


# -- one trace ----------------------------------------------------------------------------
def waterfall(trace) -> pn.viewable.Viewable:
    """A Gantt-style timeline of the spans (start and end relative to the trace, in ms)."""
    import holoviews as hv

    from kernelflow.tracing.display import span_order

    ordered = span_order(trace.data.spans)
    if not ordered:
        return shell.html("")
    t0 = min(s.start_time_ns for s, _ in ordered)
    rows = []
    for i, (s, depth) in enumerate(ordered):
        end = s.end_time_ns or s.start_time_ns
        rows.append({"start": (s.start_time_ns - t0) / 1e6, "end": (end - t0) / 1e6,
                     "y": len(ordered) - i, "y0": len(ordered) - i,
                     "span": ("· " * depth) + s.name, "type": s.span_type, "status": s.status,
                     "ms": round((end - s.start_time_ns) / 1e6, 3)})
    frame = pd.DataFrame(rows)
    ticks = [(r["y"], r["span"][:40]) for r in rows]
    plot = hv.Segments(frame, kdims=["start", "y", "end", "y0"],
                       vdims=["span", "type", "status", "ms"]).opts(
        line_width=12, color="status", cmap={"OK": "#54aeff", "ERROR": "#ff8182",
                                             "UNSET": "#d4a72c"},
        yticks=ticks, xlabel="ms since the trace started", ylabel="", tools=["hover"],
        height=min(80 + 26 * len(rows), 700), responsive=True, show_legend=False,
        title="Timeline")
    return pn.pane.HoloViews(plot, backend="bokeh", sizing_mode="stretch_width",
                             css_classes=["kf-waterfall"])


def _kv_table(pairs: dict, css: str) -> str:
    if not pairs:
        return '<span class="kf-muted">None.</span>'
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in sorted(pairs.items()))
    return f'<table class="kf-kv {css}">{body}</table>'


def _assessments(assessments: list) -> str:
    if not assessments:
        return '<span class="kf-muted">None. Add some with <code>Client.log_feedback()</code>.</span>'
    head = "<tr><th>name</th><th>kind</th><th>value</th><th>rationale</th><th>source</th></tr>"
    body = "".join(
        f"<tr><td>{esc(a.name)}</td><td>{esc(a.kind)}</td>"
        f"<td>{esc(json.dumps(a.value, default=repr))}</td><td>{esc(a.rationale or '')}</td>"
        f"<td>{esc(a.source_type)} {esc(a.source_id or '')}</td></tr>" for a in assessments)
    return f'<table class="kf-kv kf-assessments">{head}{body}</table>'


def trace_view(trace_id: str) -> pn.viewable.Viewable:
    """The page of one trace."""
    from kernelflow.tracing.display import trace_html

    client = shell.client()
    try:
        trace = client.get_trace(trace_id)
    except KernelflowError as exc:
        return shell.page("traces", shell.header("Trace", [("traces", "Traces")]),
                          shell.error_box(exc.message))
    info = trace.info
    bits = [status_badge(info.state),
            f"{info.execution_duration if info.execution_duration is not None else '–'} ms",
            absolute_time(info.request_time)]
    if _tokens(info):
        bits.append(f"{esc(_tokens(info))} tokens")
    if _cost(info):
        bits.append(esc(_cost(info)))
    if info.run_id:
        bits.append(f'run <a href="{esc(shell.url("run", id=info.run_id))}">'
                    f"{esc(info.run_id[:8])}</a>")
    bits.append(f'<code class="kf-trace-id">{esc(info.trace_id)}</code>')
    extra = f'<div class="kf-muted kf-trace-summary">{" · ".join(bits)}</div>'
    title = shell.html(f'<h1 class="kf-title kf-trace-title">{esc(info.name or info.trace_id)}'
                       "</h1>" + extra)
    crumbs = shell.html(f'<div class="kf-crumbs"><a href="traces">Traces</a> › experiment '
                        f'{esc(info.experiment_id)}</div>')
    tree = pn.pane.HTML(trace_html([trace]), sizing_mode="stretch_width",
                        css_classes=["kf-span-tree"])
    details = shell.html(
        "<h3>Tags</h3>" + _kv_table(info.tags, "kf-trace-tags")
        + "<h3>Metadata</h3>" + _kv_table(info.trace_metadata, "kf-trace-meta")
        + "<h3>Assessments</h3>" + _assessments(info.assessments))
    return shell.page("traces", crumbs, title, waterfall(trace), tree, details)


def traces_page() -> pn.viewable.Viewable:
    """Build ``/traces`` (the list) or ``/traces?trace_id=ID`` (one trace)."""
    trace_id = shell.arg("trace_id")
    if trace_id:
        return trace_view(trace_id)
    try:
        return TracesList().view()
    except KernelflowError as exc:
        return shell.page("traces", shell.header("Traces"), shell.error_box(exc.message))
