"""Overlaid metric curves of several runs (``%kf compare``), as static HTML + SVG."""

from __future__ import annotations

import html
import sys

from ..client import Client
from ..entities import Run
from ..errors import InvalidParameterError, ResourceNotFoundError
from . import _data, svg


def resolve_run(ref: str, client: Client | None = None) -> Run:
    """Find a run by id, or by name (the newest run of that name, in any experiment).

    Raises:
        ResourceNotFoundError: when no run has that id or name.
    """
    c = _data.client(client)
    try:
        return c.get_run(ref)
    except ResourceNotFoundError:
        pass
    from ..fluent import search_runs

    quoted = ref.replace("'", "''")
    runs = search_runs(
        filter_string=f"attributes.run_name = '{quoted}'", search_all_experiments=True,
        order_by=["attributes.start_time DESC"], output_format="list", max_results=10,
    )
    if not runs:
        raise ResourceNotFoundError(
            f"No run has id or name {ref!r}. `%kf runs` lists runs with their ids."
        )
    if len(runs) > 1:
        print(f"kernelflow: {len(runs)} runs are named {ref!r}; using the newest "
              f"({runs[0].info.run_id}). Pass a run id to pick another.", file=sys.stderr)
    return runs[0]


class CompareChart:
    """Metric curves of several runs overlaid, one chart per metric key.

    Args:
        runs: the runs to compare.
        keys: metric keys to draw (default: every key any of the runs logged).
        client: where to read histories from.
    """

    def __init__(self, runs: list[Run], keys: list[str] | None = None,
                 client: Client | None = None) -> None:
        if not runs:
            raise InvalidParameterError("Compare needs at least one run.")
        self.client = _data.client(client)
        self.runs = runs
        self.keys = keys or sorted({k for r in runs for k in r.data.metrics})
        missing = [k for k in self.keys if not any(k in r.data.metrics for r in runs)]
        if missing:
            known = sorted({k for r in runs for k in r.data.metrics})
            raise InvalidParameterError(
                f"None of these runs logged metric {missing[0]!r}; they have: "
                f"{', '.join(known) or 'no metrics'}."
            )

    def series(self, key: str) -> list[svg.Series]:
        """One line per run that logged ``key``."""
        out = []
        for r in self.runs:
            if key in r.data.metrics:
                h = self.client.get_metric_history(r.info.run_id, key)
                out.append(svg.Series(r.info.run_name, h.steps, h.values, svg.run_color(r.info.run_id)))
        return out

    def _repr_html_(self) -> str:
        charts = [svg.line_chart(self.series(k), title=k, width=420, height=260) for k in self.keys]
        items = [(f"{r.info.run_name} ({r.info.run_id[:8]})", svg.run_color(r.info.run_id))
                 for r in self.runs]
        if not charts:
            return svg.legend(items) + "<p>These runs logged no metrics.</p>"
        return f'<div class="kf-compare">{svg.legend(items)}{svg.chart_grid(charts)}</div>'

    def __repr__(self) -> str:
        names = ", ".join(html.unescape(r.info.run_name) for r in self.runs)
        return f"<CompareChart of {len(self.runs)} runs ({names}); metrics: {', '.join(self.keys)}>"


def compare_runs(refs: list[str], metrics: list[str] | None = None,
                 client: Client | None = None) -> CompareChart:
    """Overlay the metric curves of runs given by id or name.

    Args:
        refs: run ids or run names.
        metrics: metric keys to draw (default: all).
        client: where to read from.
    """
    c = _data.client(client)
    return CompareChart([resolve_run(r, c) for r in refs], metrics, c)
