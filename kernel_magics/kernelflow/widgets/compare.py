"""Overlaid metric curves of several runs (``%kf compare``): interactive charts with a static SVG
inside, so the saved notebook shows them without a kernel."""

from __future__ import annotations

import html
import sys
from typing import Any

from ..client import Client
from ..display import distinct_colors
from ..entities import Run
from ..errors import InvalidParameterError, ResourceNotFoundError
from . import _data, charts, svg


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
        # Each run keeps its colour unless another run of this chart has it (then the next free).
        self.colors = distinct_colors([r.info.run_id for r in runs])

    def lines(self, key: str) -> list[charts.Line]:
        """One line per run that logged ``key``."""
        out = []
        for r in self.runs:
            if key in r.data.metrics:
                h = self.client.get_metric_history(r.info.run_id, key)
                out.append(charts.Line(r.info.run_name, self.colors[r.info.run_id], h.steps,
                                       h.timestamps, h.values, float(r.info.start_time or 0)))
        return out

    def series(self, key: str) -> list[svg.Series]:
        """One static line per run that logged ``key``."""
        return [svg.Series(ln.label, ln.steps, ln.values, ln.color) for ln in self.lines(key)]

    def _legend(self) -> str:
        return svg.legend([(f"{r.info.run_name} ({r.info.run_id[:8]})", self.colors[r.info.run_id])
                           for r in self.runs])

    def _all_lines(self) -> dict[str, list[charts.Line]]:
        return {k: self.lines(k) for k in self.keys}

    def _html(self, lines: dict[str, list[charts.Line]]) -> str:
        if not lines:
            return self._legend() + "<p>These runs logged no metrics.</p>"
        return charts.interactive_html(lines, self._legend(), "kf-compare")

    def _repr_html_(self) -> str:
        return self._html(self._all_lines())

    def static_html(self) -> str:
        """The charts as static HTML + SVG only (no script): for views that run no JavaScript."""
        grid = charts.static_grid(self._all_lines(), 420, 260)
        return f'<div class="kf-compare">{self._legend()}{grid}</div>'

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        lines = self._all_lines()
        bundle = {"text/html": self._html(lines), "text/plain": repr(self)}
        if lines:
            bundle["image/svg+xml"] = charts.svg_image(lines, f"{len(self.runs)} runs compared")
        return bundle

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
