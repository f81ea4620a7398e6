"""The run page (``/run?id=RUN_ID``): info, params, metrics, datasets, charts, cell source,
artifacts."""

from __future__ import annotations

import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .artifacts import ArtifactBrowser
from .charts import X_AXES, Series, curves_chart
from .formatting import (
    absolute_time,
    duration,
    esc,
    format_value,
    relative_time,
    run_color,
    status_html,
)
from .traces import run_traces

CELL_SOURCE_TAG = "kernelflow.cell_source"
CELL_SOURCE_ARTIFACTS = ("kernelflow/cell_source.py", "cell_source.py", "kernelflow.cell_source")
REFRESH_MS = 3000
CHARTS_PER_STEP = 12


def kv_table(items: dict, css: str, numeric: bool = False) -> pn.pane.HTML:
    """A two-column key/value table; keys and values are shown as text."""
    if not items:
        return shell.html('<span class="kf-muted">None.</span>')
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(format_value(v) if numeric else v)}</td></tr>"
        for k, v in sorted(items.items())
    )
    return shell.html(f'<div class="kf-scroll"><table class="kf-kv {css}"><tr><th>Name</th>'
                      f"<th>Value</th></tr>{rows}</table></div>")


DATASET_CONTEXT_TAG = "mlflow.data.context"


def _collapsed(label: str, text: str | None, css: str) -> str:
    """A closed ``<details>`` showing ``text`` as preformatted text, or "" without text."""
    if not text:
        return ""
    return (f'<details class="{css}"><summary>{esc(label)}</summary>'
            f'<pre class="kf-pre">{esc(text)}</pre></details>')


def datasets_html(inputs: list) -> str:
    """The escaped "Datasets used" table of a run's dataset inputs, or "" when it has none.

    Each row shows the dataset's name, digest, source type, source (as text) and context
    tag, with its schema and profile (when logged) collapsed under the name.
    """
    if not inputs:
        return ""
    rows = []
    for item in inputs:
        d = item.dataset
        context = (item.tags or {}).get(DATASET_CONTEXT_TAG)
        chip = f'<span class="kf-chip kf-dataset-context">{esc(context)}</span>' if context else ""
        extra = (_collapsed("Schema", d.schema, "kf-dataset-schema")
                 + _collapsed("Profile", d.profile, "kf-dataset-profile"))
        rows.append(
            f'<tr class="kf-dataset"><td><span class="kf-dataset-name">{esc(d.name)}</span>{extra}</td>'
            f"<td>{chip}</td><td><code>{esc(d.digest)}</code></td><td>{esc(d.source_type)}</td>"
            f'<td class="kf-dataset-source">{esc(d.source)}</td></tr>')
    return ('<h3>Datasets used</h3><div class="kf-scroll"><table class="kf-kv kf-datasets">'
            "<tr><th>Name</th><th>Context</th><th>Digest</th><th>Source type</th><th>Source</th>"
            "</tr>" + "".join(rows) + "</table></div>")


def run_summary(run, experiment_name: str) -> str:
    """The escaped line of facts under the run's title."""
    i, tags = run.info, run.data.tags
    facts = [
        status_html(i.status),
        f'<span title="{esc(absolute_time(i.start_time))}">Started {esc(relative_time(i.start_time))}</span>',
        f"Duration {esc(duration(i.start_time, i.end_time))}",
        f"User {esc(i.user_id)}",
        f"Run ID <code>{esc(i.run_id)}</code>",
    ]
    if tags.get("mlflow.parentRunId"):
        parent = tags["mlflow.parentRunId"]
        facts.append(f'Parent <a href="run?id={esc(parent)}">{esc(parent[:8])}</a>')
    source = tags.get("mlflow.source.name") or tags.get("kernelflow.notebook")
    if source:
        facts.append(f"Source {esc(source)}")
    if i.lifecycle_stage == "deleted":
        facts.append('<b class="kf-failed">Deleted</b>')
    return '<div class="kf-muted kf-run-facts">' + " · ".join(facts) + "</div>"


def cell_source(client, run) -> str | None:
    """The notebook cell that produced the run: its tag, or an artifact of that name."""
    text = run.data.tags.get(CELL_SOURCE_TAG)
    if text:
        return text
    for path in CELL_SOURCE_ARTIFACTS:
        try:
            local = client.download_artifacts(run.info.run_id, path)
            with open(local, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (KernelflowError, OSError):
            continue
    return None


class RunPage:
    """State and widgets of one session's run page."""

    def __init__(self, run_id: str) -> None:
        self.client = shell.client()
        self.run = self.client.get_run(run_id)
        self.experiment = self.client.get_experiment(self.run.info.experiment_id)
        self.x_axis = pn.widgets.RadioButtonGroup(options=list(X_AXES), value="Step",
                                                  button_type="light")
        self.head = shell.html("")
        self.overview = pn.Column(sizing_mode="stretch_width")
        self.charts = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.limit = CHARTS_PER_STEP
        self._panes: dict[str, tuple[int, pn.viewable.Viewable]] = {}
        self.chart_filter = pn.widgets.TextInput(placeholder="Filter metrics by name", width=260,
                                                 css_classes=["kf-chart-filter"], visible=False)
        self.more = pn.widgets.Button(name="Show more", css_classes=["kf-more-charts"],
                                      visible=False, width=160)
        self.chart_count = shell.html("", width=220)
        self.x_axis.param.watch(lambda e: self.draw_charts(force=True), "value")
        self.chart_filter.param.watch(self._on_filter, "value_input")
        self.more.on_click(lambda e: self.show_more())
        self.refresh()

    def refresh(self) -> None:
        """Re-read the run and redraw what changed."""
        self.run = self.client.get_run(self.run.info.run_id)
        r = self.run
        title = r.info.run_name or r.info.run_id
        exp = self.experiment.name
        self.head.object = (
            f'<div class="kf-crumbs"><a href="./">Experiments</a> › '
            f'<a href="{esc(shell.url("runs", experiment=exp))}">{esc(exp)}</a> ›</div>'
            f'<h1 class="kf-title"><span class="kf-dot" style="background:{run_color(r.info.run_id)}">'
            f'</span><span class="kf-run-name">{esc(title)}</span></h1>' + run_summary(r, exp)
        )
        user_tags = {k: v for k, v in r.data.tags.items()
                     if not k.startswith("mlflow.") and k != CELL_SOURCE_TAG}
        self.overview[:] = [pn.Row(
            pn.Column(shell.html("<h3>Parameters</h3>"), kv_table(r.data.params, "kf-params")),
            pn.Column(shell.html("<h3>Metrics (latest)</h3>"),
                      kv_table(r.data.metrics, "kf-metrics", numeric=True)),
            pn.Column(shell.html("<h3>Tags</h3>"), kv_table(user_tags, "kf-tags")),
            sizing_mode="stretch_width")]
        datasets = datasets_html(self.client.get_run_inputs(r.info.run_id))
        if datasets:  # the section is left out for runs without dataset inputs
            self.overview.append(shell.html(datasets))
        self.draw_charts()

    def chart_keys(self) -> list[str]:
        """The metrics matching the chart filter, in name order."""
        needle = (self.chart_filter.value_input or "").strip().lower()
        return [k for k in sorted(self.run.data.metrics) if needle in k.lower()]

    def draw_charts(self, force: bool = False) -> None:
        """(Re)draw a chart per shown metric, only for those whose history grew.

        Only the first ``self.limit`` matching metrics get a chart (hundreds of charts would
        freeze the page); "Show more" and the filter reach the rest.
        """
        keys = self.chart_keys()
        shown = keys[:self.limit]
        old = {} if force else self._panes
        self._panes = {key: self._chart(key, old.get(key)) for key in shown}
        # "Show more" and the count first: the page gets them before the charts, so once
        # the charts show the filter's result the button and count already match it.
        # (pn.io.hold() would send one message, but Bokeh's GridBox trips over the
        # combined layout events: "Cannot read properties of undefined".)
        self._update_more(len(shown), len(keys))
        self.charts.objects = [pane for _, pane in self._panes.values()] or [shell.html(
            '<span class="kf-muted">No metrics logged'
            f'{" match this filter" if self.run.data.metrics else ""}.</span>')]

    def _chart(self, key: str, previous: tuple | None) -> tuple[int, pn.viewable.Viewable]:
        """(points, chart) for one metric, reusing ``previous`` when nothing was added."""
        rid = self.run.info.run_id
        history = self.client.get_metric_history(rid, key)
        if previous is not None and previous[0] == len(history):
            return previous
        x_axis = X_AXES[self.x_axis.value]
        series = Series.from_history(history, rid, self.run.info.run_name, run_color(rid), x_axis)
        return len(history), curves_chart([series], x_axis, f"{key} ({len(history):,} points)",
                                          ylabel=key)

    def _update_more(self, shown: int, matching: int) -> None:
        total = len(self.run.data.metrics)
        self.chart_filter.visible = total > CHARTS_PER_STEP
        self.more.visible = matching > shown
        self.more.name = f"Show {min(CHARTS_PER_STEP, matching - shown)} more"
        self.chart_count.object = (f'<span class="kf-muted kf-chart-count">{shown:,} of {matching:,}'
                                   " charts shown</span>" if matching > shown else "")

    def show_more(self) -> None:
        """Add the next few metrics' charts."""
        self.limit += CHARTS_PER_STEP
        self.draw_charts()

    def _on_filter(self, event) -> None:
        self.limit = CHARTS_PER_STEP
        self.draw_charts()

    def tick(self) -> None:
        """Periodic refresh while the run is running."""
        if self.run.info.status == "RUNNING":
            self.refresh()

    def view(self) -> pn.viewable.Viewable:
        """The page's layout."""
        source = cell_source(self.client, self.run)
        source_pane = (shell.html(f'<pre class="kf-pre kf-cell-source">{esc(source)}</pre>')
                       if source else shell.html('<span class="kf-muted">No cell source was '
                                                 "captured for this run.</span>"))
        tabs = pn.Tabs(
            ("Overview", pn.Column(
                self.overview,
                pn.Row(shell.html("<h3>Charts</h3>", width=80), self.chart_filter,
                       self.chart_count, pn.Spacer(), self.x_axis, sizing_mode="stretch_width"),
                self.charts, self.more, sizing_mode="stretch_width")),
            ("Cell source", source_pane),
            ("Artifacts", ArtifactBrowser(self.client, self.run.info.run_id).view()),
            ("Traces", run_traces(self.client, self.run.info.run_id)),
            sizing_mode="stretch_width", dynamic=True,  # other tabs render when opened
        )
        return shell.page("runs", self.head, tabs, experiment=self.experiment.name)


def run_page() -> pn.viewable.Viewable:
    """Build the run page for the ``id`` URL argument."""
    pn.extension("tabulator")  # the artifacts tab's tables render later, after the page
    run_id = shell.arg("id")
    try:
        page = RunPage(run_id)
    except KernelflowError as exc:
        return shell.page("runs", shell.header("Run not found", [("./", "Experiments")]),
                          shell.error_box(exc.message))
    if page.run.info.status == "RUNNING":
        pn.state.add_periodic_callback(page.tick, period=REFRESH_MS)
    return page.view()
