"""The runs table widget (``%kf runs``): filter with the search grammar, sort, tick runs to compare.

The table itself is a small anywidget: the kernel renders its HTML (grouped metric and
param columns, run names linking to a running dashboard) and the front end syncs the
ticked rows back as ``selected``. Shown in a kernel, the table comes with a static copy
(see ``_fallback``) that follows every refresh and comparison, so after a kernel restart,
or in the saved notebook, the last table shows instead of a widget error.
"""

from __future__ import annotations

import functools
import html
from importlib import resources
from typing import Any

from ..client import Client
from ..entities import Run
from ..errors import KernelflowError
from . import _data, _fallback, _fmt

MAX_COLUMNS = 12
FILTER_HINT = "metrics.acc > 0.9 AND params.model = 'rf'"


class RunsTable:
    """Runs of one or more experiments as a sortable, filterable table; tick rows to compare them.

    Args:
        experiment_ids: experiments to show (default: the active experiment).
        filter_string: MLflow search grammar, e.g. ``"metrics.acc > 0.9"``.
        order_by: e.g. ``["metrics.acc DESC"]`` (default: newest first).
        max_results: rows at most.
        columns: ``metrics.X`` / ``params.X`` columns to show (default: all, up to 12 of each).
        search_all: show runs of every experiment.
        client: where to read from.
        dashboard_url: root URL of a running dashboard: run names link to their page there.
    """

    def __init__(
        self,
        experiment_ids: list[str] | None = None,
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
        columns: list[str] | None = None,
        search_all: bool = False,
        client: Client | None = None,
        dashboard_url: str | None = None,
    ) -> None:
        self.client = _data.client(client)
        self.experiment_ids = experiment_ids
        self.search_all = search_all
        self.filter_string = filter_string
        self.order_by = list(order_by) if order_by else ["attributes.start_time DESC"]
        self.max_results = max_results
        self.columns = columns
        self.dashboard_url = dashboard_url
        self.runs: list[Run] = []
        self.error: str | None = None
        self._widget: Any = None
        self._fallback = _fallback.StaticFallback()
        self._compare_html = ""
        self.refresh()

    # -- data ------------------------------------------------------------------
    def refresh(self) -> None:
        """Query the store again with the current filter, order and limit."""
        from ..fluent import search_runs

        try:
            self.runs = search_runs(
                experiment_ids=self.experiment_ids, filter_string=self.filter_string,
                order_by=self.order_by, max_results=self.max_results, output_format="list",
                search_all_experiments=self.search_all,
            )
            self.error = None
        except KernelflowError as exc:  # a typo in the filter: show it, keep the last rows
            self.error = exc.message
        if self._widget is not None:
            self._sync_widgets()

    def metric_columns(self) -> list[str]:
        """Metric keys shown as columns."""
        return self._keys("metrics", lambda r: r.data.metrics)

    def param_columns(self) -> list[str]:
        """Param keys shown as columns."""
        return self._keys("params", lambda r: r.data.params)

    def _keys(self, kind: str, get) -> list[str]:
        if self.columns is not None:
            return [c.split(".", 1)[1] for c in self.columns if c.startswith(kind + ".")]
        return sorted({k for r in self.runs for k in get(r)})[:MAX_COLUMNS]

    # -- rendering -------------------------------------------------------------
    def table_html(self, pick: bool = False) -> str:
        """The table as HTML (also what shows where widgets cannot render).

        Args:
            pick: with a checkbox at the start of each row (the widget's table).
        """
        from .reprs import runs_html

        return runs_html(self.runs, self.metric_columns(), self.param_columns(), pick=pick,
                         link=self.dashboard_url)

    def to_text(self) -> str:
        """A plain-text table for terminals."""
        if not self.runs:
            return "No runs match."
        mkeys = self.metric_columns()
        lines = [f"{'run':<24} {'id':<10} {'status':<9} " + " ".join(f"{k:>12}" for k in mkeys)]
        for r in self.runs:
            vals = " ".join(f"{_fmt.format_number_or_blank(r.data.metrics.get(k)):>12}" for k in mkeys)
            lines.append(f"{r.info.run_name[:24]:<24} {r.info.run_id[:8]:<10} {r.info.status:<9} {vals}")
        return "\n".join(lines)

    # -- widgets ---------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            self._widget = self._build()
            self._sync_widgets()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        self.filter_box = w.Text(value=self.filter_string, placeholder=FILTER_HINT,
                                 description="Filter", continuous_update=False,
                                 layout=w.Layout(width="60%"))
        self.sort_box = w.Dropdown(description="Sort by", layout=w.Layout(width="auto"))
        self.direction = w.ToggleButtons(options=[("desc", "DESC"), ("asc", "ASC")],
                                         style={"button_width": "60px"})
        self.max_box = w.BoundedIntText(value=self.max_results, min=1, max=100_000,
                                        description="Max", layout=w.Layout(width="150px"))
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.message = w.HTML()
        self.table = _grid_class()(layout=w.Layout(width="100%"))
        self.compare_button = w.Button(description="Compare selected", icon="line-chart",
                                       tooltip="overlay the metric curves of the ticked runs",
                                       layout=w.Layout(width="auto", min_width="170px",
                                                       align_self="flex-start"))
        self.compare_view = w.Output()
        self._set_sort_controls()
        self._observe()
        return w.VBox([
            w.HBox([self.filter_box, self.max_box, self.refresh_button]),
            w.HBox([self.sort_box, self.direction]), self.message, self.table,
            self.compare_button, self.compare_view,
        ], layout=w.Layout(overflow="auto", width="100%"))

    def _observe(self) -> None:
        self.filter_box.observe(lambda ch: self._set(filter_string=ch["new"]), names="value")
        self.max_box.observe(lambda ch: self._set(max_results=ch["new"]), names="value")
        self.sort_box.observe(lambda ch: self._on_sort(), names="value")
        self.direction.observe(lambda ch: self._on_sort(), names="value")
        self.refresh_button.on_click(lambda b: self.refresh())
        self.compare_button.on_click(lambda b: self.compare())

    def _set(self, **changes: Any) -> None:
        for name, val in changes.items():
            setattr(self, name, val)
        self.refresh()

    def _on_sort(self) -> None:
        if self._syncing or self.sort_box.value is None:
            return
        self._set(order_by=[f"{self.sort_box.value} {self.direction.value}"])

    _syncing = False

    def _set_sort_controls(self) -> None:
        options = [("start time", "attributes.start_time"), ("run name", "attributes.run_name")]
        options += [(f"metric {k}", f"metrics.`{k}`") for k in self.metric_columns()]
        options += [(f"param {k}", f"params.`{k}`") for k in self.param_columns()]
        key, _, direction = self.order_by[0].rpartition(" ") if self.order_by else ("", "", "")
        if direction.upper() not in ("ASC", "DESC"):
            key, direction = self.order_by[0], "ASC"
        if key not in [v for _, v in options]:
            options.append((key, key))
        self._syncing = True
        try:
            self.sort_box.options = options
            self.sort_box.value = key
            self.direction.value = direction.upper()
        finally:
            self._syncing = False

    def _sync_widgets(self) -> None:
        self.table.html = self.table_html(pick=True)
        self.message.value = _error_html(self.error) if self.error else (
            f"<small>{_count(len(self.runs))} · tick rows to compare them</small>")
        shown = {r.info.run_id for r in self.runs}
        self.table.selected = [v for v in self.table.selected if v in shown]
        self._set_sort_controls()
        self._update_copy()

    def static_html(self) -> str:
        """What the saved notebook shows: the table, its filter, and the last comparison."""
        what = _count(len(self.runs))
        if self.filter_string:
            what += f" · filter <code>{html.escape(self.filter_string)}</code>"
        caption = (f"<div class='kf-caption' style='font-size:12px;margin:2px 0 4px;"
                   f"color:{_fmt.FG2}'>{what}</div>")
        return f"<div class='kf-runs-static'>{caption}{self.table_html()}{self._compare_html}</div>"

    def _update_copy(self) -> None:
        self._fallback.update(self.static_html(), self.to_text())

    # -- compare -----------------------------------------------------------------
    @property
    def selected(self) -> list[str]:
        """Run ids ticked in the table."""
        return list(self.table.selected) if self._widget is not None else []

    def compare(self, run_ids: list[str] | None = None, metrics: list[str] | None = None):
        """Overlay the metric curves of the ticked runs under the table; return the chart."""
        from . import charts
        from .compare import CompareChart

        self.widget  # noqa: B018 - the chart shows under the table, so build it
        ids = run_ids or self.selected
        runs = [r for r in self.runs if r.info.run_id in ids]
        if not runs:
            self.compare_view.outputs = (_output({"text/html": "<small>Tick runs in the table "
                                                  "first.</small>", "text/plain": ""}),)
            return None
        chart = CompareChart(runs, metrics, self.client)
        bundle = chart._repr_mimebundle_()
        self.compare_view.outputs = (_output(bundle),)
        picture = bundle.get("image/svg+xml")  # the copy keeps a picture of it (no script)
        self._compare_html = (f"<div class='kf-compare-static'>"
                              f"{charts.picture(picture, 'comparison of the ticked runs')}</div>"
                              if picture else "")
        self._update_copy()
        return chart

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self.to_text()
        bundle["text/html"] = self.table_html()
        return bundle

    def _ipython_display_(self) -> None:
        """In a kernel: the static copy, then the widget; elsewhere the static table alone."""
        from IPython.display import display

        if _fallback.in_kernel():
            self._fallback.show(self.widget, self.static_html(), self.to_text())
        else:
            display({"text/html": self.static_html(), "text/plain": self.to_text()}, raw=True)


def _count(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _output(bundle: dict) -> dict:
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


def _error_html(message: str) -> str:
    """A search error as monospace text, line breaks kept, so the caret stays under its character."""
    return (f"<pre class='kf-filter-error' style='color:var(--jp-error-color1,#c62828);"
            f"font-family:var(--jp-code-font-family,monospace);font-size:12px;white-space:pre;"
            f"overflow-x:auto;margin:4px 0'>{html.escape(message)}</pre>")


@functools.cache
def _grid_class() -> type:
    """The table's anywidget class (anywidget is imported only when a table is shown)."""
    import anywidget
    import traitlets

    class RunsGrid(anywidget.AnyWidget):
        """The runs table: HTML from the kernel, ticked rows back as ``selected``."""

        _esm = resources.files(__package__).joinpath("table.js").read_text(encoding="utf-8")
        html = traitlets.Unicode("").tag(sync=True)
        selected = traitlets.List(traitlets.Unicode()).tag(sync=True)

    return RunsGrid
