"""The compare page (``/compare?runs=ID,ID``): overlaid curves, parallel coordinates, scatter."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .charts import X_AXES, Series, curves_chart
from .formatting import distinct_colors, esc, format_value, run_link

MAX_RUNS = 100


def numeric(value) -> float | None:
    """A param/metric value as a float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def columns_of(runs: list) -> dict[str, list]:
    """Every comparable column (metrics, params, duration) as one list of values per run."""
    cols: dict[str, list] = {}
    for kind, getter in (("metrics", lambda r: r.data.metrics), ("params", lambda r: r.data.params)):
        keys = sorted({k for r in runs for k in getter(r)})
        for k in keys:
            cols[f"{kind}.{k}"] = [getter(r).get(k) for r in runs]
    cols["duration (s)"] = [((r.info.end_time or 0) - (r.info.start_time or 0)) / 1000
                            if r.info.end_time else None for r in runs]
    return cols


def parallel_coordinates(runs: list, cols: dict[str, list], metric: str) -> hv.Overlay:
    """One line per run across the param axes (scaled to 0..1), coloured by ``metric``."""
    axes = [c for c in cols if c.startswith("params.")] + [metric]
    scaled = [_scale(cols[a]) for a in axes]
    colour_by = [numeric(v) for v in cols.get(metric, [])]
    paths, labels = [], []
    for i, run in enumerate(runs):
        ys = [s[0][i] for s in scaled]
        paths.append({"x": list(range(len(axes))), "y": ys, "m": colour_by[i] if colour_by[i] is not None else np.nan,
                      "run": run.info.run_name})
    for j, (_, ticks) in enumerate(scaled):
        labels += [(j, y, text) for y, text in ticks]
    lines = hv.Path(paths, vdims=["m", "run"]).opts(
        color="m", cmap="viridis", line_width=2.5, colorbar=True, clabel=metric, tools=["hover"],
        xticks=[(j, a.split(".", 1)[-1]) for j, a in enumerate(axes)], yaxis=None,
        responsive=True, height=340, title=f"Parameters → {metric}", xlabel="",
    )
    marks = hv.Labels(labels, ["x", "y"], "text").opts(text_font_size="9pt", text_color="#333",
                                                     xoffset=0.05, text_align="left")
    guides = hv.Overlay([hv.VLine(j).opts(color="#bbb", line_width=1) for j in range(len(axes))])
    return (guides * lines * marks).opts(show_legend=False)


def _scale(values: list) -> tuple[list[float], list[tuple[float, str]]]:
    """Map values to 0..1 (numbers linearly, text evenly by category) and give tick labels."""
    nums = [numeric(v) for v in values]
    if nums and all(n is not None for n in nums):
        lo, hi = min(nums), max(nums)
        span = (hi - lo) or 1.0
        return [(n - lo) / span for n in nums], [(0.0, format_value(lo)), (1.0, format_value(hi))]
    cats = sorted({str(v) for v in values})
    pos = {c: (i / (len(cats) - 1) if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
    return [pos[str(v)] for v in values], [(pos[c], c[:20]) for c in cats]


def scatter(runs: list, cols: dict[str, list], x: str, y: str, colors: dict) -> hv.Points:
    """One point per run at (x, y), in the run's colour."""
    data = [(numeric(cols[x][i]), numeric(cols[y][i]), r.info.run_name, colors[r.info.run_id])
            for i, r in enumerate(runs)]
    data = [d for d in data if d[0] is not None and d[1] is not None]
    return hv.Points(data, kdims=["x", "y"], vdims=["run", "color"]).opts(
        color="color", size=11, tools=["hover"], responsive=True, height=340, xlabel=x, ylabel=y,
        title=f"{y} vs {x}",
    )


def diff_table(runs: list, cols: dict[str, list], colors: dict) -> pn.pane.HTML:
    """Params and metrics side by side; rows whose values differ are highlighted."""
    head = "".join(f"<th>{run_link(r.info.run_id, r.info.run_name, colors[r.info.run_id])}</th>"
                   for r in runs)
    body = []
    for key, values in cols.items():
        differs = len({str(v) for v in values}) > 1
        cells = "".join(f"<td>{esc(format_value(v))}</td>" for v in values)
        style = ' style="background:#fff8e1"' if differs else ""
        body.append(f"<tr{style}><td><b>{esc(key)}</b></td>{cells}</tr>")
    return shell.html(f'<table class="kf-kv kf-diff"><tr><th></th>{head}</tr>{"".join(body)}</table>')


class ComparePage:
    """State and widgets of one session's compare page."""

    def __init__(self, run_ids: list[str]) -> None:
        self.client = shell.client()
        self.runs = [self.client.get_run(rid) for rid in run_ids[:MAX_RUNS]]
        self.colors = distinct_colors([r.info.run_id for r in self.runs])
        self.cols = columns_of(self.runs)
        metrics = [c.split(".", 1)[1] for c in self.cols if c.startswith("metrics.")]
        numeric_cols = [c for c, vs in self.cols.items() if any(numeric(v) is not None for v in vs)]
        self.metric = pn.widgets.Select(name="Metric", options=metrics, width=220,
                                        css_classes=["kf-compare-metric"])
        self.x_axis = pn.widgets.RadioButtonGroup(options=list(X_AXES), value="Step",
                                                  button_type="light", align="end")
        self.pc_metric = pn.widgets.Select(name="Colour by", options=[f"metrics.{m}" for m in metrics],
                                           width=220)
        self.sx = pn.widgets.Select(name="X", options=numeric_cols, width=220)
        self.sy = pn.widgets.Select(name="Y", options=numeric_cols,
                                    value=numeric_cols[1] if len(numeric_cols) > 1 else None,
                                    width=220)

    def curves(self, metric, x_axis):
        """Overlaid curves of ``metric`` for every run that logged it."""
        if not metric:
            return shell.html('<span class="kf-muted">These runs logged no metrics.</span>')
        series = [Series.from_history(self.client.get_metric_history(r.info.run_id, metric),
                                      r.info.run_id, r.info.run_name, self.colors[r.info.run_id],
                                      X_AXES[x_axis])
                  for r in self.runs if metric in r.data.metrics]
        return curves_chart(series, X_AXES[x_axis], metric, height=340, ylabel=metric)

    def parallel(self, metric):
        """Parallel coordinates of the params, coloured by ``metric``."""
        if not metric or not any(c.startswith("params.") for c in self.cols):
            return shell.html('<span class="kf-muted">Needs params and a metric.</span>')
        return pn.pane.HoloViews(parallel_coordinates(self.runs, self.cols, metric),
                                 sizing_mode="stretch_width", css_classes=["kf-parallel"])

    def scatter(self, x, y):
        """Scatter of two columns."""
        if not x or not y:
            return shell.html('<span class="kf-muted">Needs two numeric columns.</span>')
        return pn.pane.HoloViews(scatter(self.runs, self.cols, x, y, self.colors), sizing_mode="stretch_width",
                                 css_classes=["kf-scatter"])

    def view(self) -> pn.viewable.Viewable:
        """The page's layout."""
        names = " ".join(run_link(r.info.run_id, r.info.run_name, self.colors[r.info.run_id])
                         + "&nbsp;&nbsp;" for r in self.runs)
        exp = self.client.get_experiment(self.runs[0].info.experiment_id).name
        head = shell.header(f"Comparing {len(self.runs)} runs",
                            [("./", "Experiments"), (shell.url("runs", experiment=exp), exp)],
                            f'<div class="kf-compare-runs">{names}</div>')
        return shell.page(
            "runs", head,
            pn.Row(self.metric, self.x_axis), pn.bind(self.curves, self.metric, self.x_axis),
            pn.Row(pn.Column(self.pc_metric, pn.bind(self.parallel, self.pc_metric)),
                   pn.Column(pn.Row(self.sx, self.sy), pn.bind(self.scatter, self.sx, self.sy)),
                   sizing_mode="stretch_width"),
            shell.html("<h3>Parameters and metrics</h3>"), diff_table(self.runs, self.cols, self.colors),
            experiment=exp,
        )


def compare_page() -> pn.viewable.Viewable:
    """Build the compare page for the ``runs`` URL argument (comma-separated run ids)."""
    ids = [r for r in shell.arg("runs").split(",") if r.strip()]
    if not ids:
        return shell.page("runs", shell.header("Compare runs"),
                          shell.error_box("No runs given: select runs on a runs page, then "
                                          "press Compare (the URL is compare?runs=ID,ID)."))
    try:
        return ComparePage(ids).view()
    except KernelflowError as exc:
        return shell.page("runs", shell.header("Compare runs"), shell.error_box(exc.message))
