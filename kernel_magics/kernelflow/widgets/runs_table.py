"""The runs table widget (``%kf runs``): filter with the search grammar, sort, pick runs to compare."""

from __future__ import annotations

import html
from typing import Any

from ..client import Client
from ..entities import Run
from ..errors import KernelflowError
from . import _data, _fmt

MAX_COLUMNS = 12
FILTER_HINT = "metrics.acc > 0.9 AND params.model = 'rf'"


class RunsTable:
    """Runs of one or more experiments as a sortable, filterable table with a compare picker.

    Args:
        experiment_ids: experiments to show (default: the active experiment).
        filter_string: MLflow search grammar, e.g. ``"metrics.acc > 0.9"``.
        order_by: e.g. ``["metrics.acc DESC"]`` (default: newest first).
        max_results: rows at most.
        columns: ``metrics.X`` / ``params.X`` columns to show (default: all, up to 12 of each).
        search_all: show runs of every experiment.
        client: where to read from.
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
    ) -> None:
        self.client = _data.client(client)
        self.experiment_ids = experiment_ids
        self.search_all = search_all
        self.filter_string = filter_string
        self.order_by = list(order_by) if order_by else ["attributes.start_time DESC"]
        self.max_results = max_results
        self.columns = columns
        self.runs: list[Run] = []
        self.error: str | None = None
        self._widget: Any = None
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
    def table_html(self) -> str:
        """The table as HTML (also what shows where widgets cannot render)."""
        from .reprs import runs_html

        return runs_html(self.runs, self.metric_columns(), self.param_columns())

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
        self.table = w.HTML()
        self.picker = w.SelectMultiple(description="Compare", rows=6, layout=w.Layout(width="60%"))
        self.compare_button = w.Button(description="Compare selected", icon="line-chart")
        self.compare_view = w.HTML()
        self._set_sort_controls()
        self._observe()
        return w.VBox([
            w.HBox([self.filter_box, self.max_box, self.refresh_button]),
            w.HBox([self.sort_box, self.direction]), self.message, self.table,
            w.HBox([self.picker, self.compare_button]), self.compare_view,
        ], layout=w.Layout(overflow="auto"))

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
        self.table.value = self.table_html()
        self.message.value = (f"<span style='color:#c62828'>{html.escape(self.error)}</span>"
                              if self.error else f"<small>{len(self.runs)} runs</small>")
        selected = [v for v in self.picker.value]
        self.picker.options = [(f"{r.info.run_name} · {r.info.run_id[:8]}", r.info.run_id)
                               for r in self.runs]
        self.picker.value = tuple(v for v in selected if v in {r.info.run_id for r in self.runs})
        self._set_sort_controls()

    # -- compare -----------------------------------------------------------------
    @property
    def selected(self) -> list[str]:
        """Run ids picked for comparison."""
        return list(self.picker.value) if self._widget is not None else []

    def compare(self, run_ids: list[str] | None = None, metrics: list[str] | None = None):
        """Overlay the metric curves of the picked runs under the table; return the chart."""
        from .compare import CompareChart

        self.widget  # noqa: B018 - the chart shows under the table, so build it
        ids = run_ids or self.selected
        runs = [r for r in self.runs if r.info.run_id in ids]
        if not runs:
            self.compare_view.value = "<small>Pick runs in the list first.</small>"
            return None
        chart = CompareChart(runs, metrics, self.client)
        self.compare_view.value = chart.static_html()
        return chart

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self.to_text()
        bundle["text/html"] = self.table_html()
        return bundle
