"""The compare page (``/compare?runs=ID,ID``): overlaid curves, parallel coordinates, scatter."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.palettes import Viridis256

from kernelflow.errors import KernelflowError

from . import shell
from .charts import X_AXES, Series, curves_chart
from .formatting import distinct_styles, esc, format_value, run_link

MAX_RUNS = 100
MAX_AXES = 8
MAX_NAMED_POINTS = 12
PC_CMAP = Viridis256[:215]  # viridis without its palest yellows, which vanish on white


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


def parallel_axes(cols: dict[str, list], metric: str, limit: int = MAX_AXES) -> list[str]:
    """The params whose values differ between the runs (at most ``limit``), then ``metric``.

    A param every run shares would draw one flat bundle of lines, so it gets no axis.
    """
    varying = [c for c in cols if c.startswith("params.") and len({str(v) for v in cols[c]}) > 1]
    return varying[:limit] + [metric]


def parallel_coordinates(runs: list, cols: dict[str, list], metric: str) -> hv.Overlay:
    """One line per run across the varying params' axes to ``metric``, coloured by ``metric``.

    Each axis is scaled to 0..1 on its own (numbers linearly, text evenly by category) and
    labelled with its values, so two or three runs read as clearly as a hundred.
    """
    axes = parallel_axes(cols, metric)
    scaled = [_scale(cols[a]) for a in axes]
    colour_by = [numeric(v) for v in cols.get(metric, [])]
    paths, dots = [], []
    for i, run in enumerate(runs):
        m = colour_by[i] if colour_by[i] is not None else np.nan
        ys = [s[0][i] for s in scaled]
        paths.append({"x": list(range(len(axes))), "y": ys, "m": m, "run": run.info.run_name})
        dots += [(j, y, m, run.info.run_name) for j, y in enumerate(ys)]
    style = {"color": "m", "cmap": PC_CMAP, "tools": ["hover"]}
    lines = hv.Path(paths, vdims=["m", "run"]).opts(line_width=3, alpha=0.85, **style)
    points = hv.Points(dots, ["x", "y"], ["m", "run"]).opts(
        size=9, colorbar=True, clabel=_short(metric), **style)
    return (_axis_guides(len(axes)) * lines * points * _axis_labels(scaled)).opts(
        xticks=[(j, _short(a)) for j, a in enumerate(axes)], yaxis=None, show_legend=False,
        xlim=(-0.15, len(axes) - 0.35), ylim=(-0.12, 1.12), responsive=True, height=360,
        title=f"Parameters → {_short(metric)}", xlabel="", fontsize={"xticks": "10.5pt"},
        toolbar="above",
    )


def _axis_guides(n: int) -> hv.Overlay:
    return hv.Overlay([hv.VLine(j).opts(color="#9aa5b1", line_width=1.5) for j in range(n)])


def _axis_labels(scaled: list) -> hv.Labels:
    """Each axis' value labels, just right of the axis line."""
    labels = [(j, y, text) for j, (_, ticks) in enumerate(scaled) for y, text in ticks]
    return hv.Labels(labels, ["x", "y"], "text").opts(
        text_font_size="9.5pt", text_color="#37424f", xoffset=0.05, yoffset=0.015,
        text_align="left", text_baseline="bottom")


def _short(column: str) -> str:
    """An axis name without its ``metrics.``/``params.`` prefix, cut to fit under an axis."""
    name = column.split(".", 1)[-1]
    return name if len(name) <= 22 else name[:21] + "…"


def _scale(values: list) -> tuple[list[float], list[tuple[float, str]]]:
    """Map values to 0..1 and give tick labels: numbers linearly (logarithmically when positive
    and spanning 100x or more), text evenly by category."""
    nums = [numeric(v) for v in values]
    if nums and all(n is not None for n in nums):
        return _scale_numbers(nums)
    cats = sorted({str(v) for v in values})
    pos = {c: (i / (len(cats) - 1) if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
    return [pos[str(v)] for v in values], _spaced([(pos[c], _short(c)) for c in cats])


def _scale_numbers(nums: list[float]) -> tuple[list[float], list[tuple[float, str]]]:
    lo, hi = min(nums), max(nums)
    if lo == hi:
        return [0.5] * len(nums), [(0.5, format_value(lo))]
    log = lo > 0 and hi / lo >= 100
    f = np.log10 if log else (lambda v: v)
    positions = [float((f(n) - f(lo)) / (f(hi) - f(lo))) for n in nums]
    ticks = sorted({(p, format_value(n)) for p, n in zip(positions, nums, strict=True)})
    return positions, _spaced(ticks)


def _spaced(ticks: list[tuple[float, str]], gap: float = 0.07) -> list[tuple[float, str]]:
    """Keep the first and last tick, then every tick at least ``gap`` from those kept."""
    if len(ticks) <= 2:
        return ticks
    kept = [ticks[0], ticks[-1]]
    for tick in ticks[1:-1]:
        if all(abs(tick[0] - k[0]) >= gap for k in kept):
            kept.append(tick)
    return sorted(kept)


def scatter(runs: list, cols: dict[str, list], x: str, y: str, colors: dict) -> hv.Overlay:
    """One point per run at (x, y), in the run's colour; named beside it when runs are few."""
    data = [(numeric(cols[x][i]), numeric(cols[y][i]), r.info.run_name, colors[r.info.run_id])
            for i, r in enumerate(runs)]
    data = [d for d in data if d[0] is not None and d[1] is not None]
    points = hv.Points(data, kdims=["x", "y"], vdims=["run", "color"]).opts(
        color="color", size=12, tools=["hover"], line_color="white", line_width=1)
    names = hv.Labels([d[:3] for d in data if len(data) <= MAX_NAMED_POINTS],
                      ["x", "y"], "run").opts(text_font_size="9.5pt", text_color="#37424f",
                                              xoffset=0, yoffset=0, text_align="left",
                                              text_baseline="bottom")
    return (points * names).opts(
        responsive=True, height=360, xlabel=x, ylabel=y, title=f"{_short(y)} vs {_short(x)}",
        xlim=padded([d[0] for d in data]), ylim=padded([d[1] for d in data]),
        show_legend=False, toolbar="above",
    )


def padded(values: list[float], share: float = 0.12) -> tuple[float, float] | tuple[None, None]:
    """An axis range around ``values`` with room for the points and their names."""
    if not values:
        return None, None
    lo, hi = min(values), max(values)
    pad = (hi - lo) * share or (abs(lo) * share or 1.0)
    return lo - pad, hi + pad * 2  # names sit to the upper right of their point


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
        self.styles = distinct_styles([r.info.run_id for r in self.runs])
        self.colors = {rid: color for rid, (color, _) in self.styles.items()}
        self.cols = columns_of(self.runs)
        metrics = [c.split(".", 1)[1] for c in self.cols if c.startswith("metrics.")]
        numeric_cols = [c for c, vs in self.cols.items() if any(numeric(v) is not None for v in vs)]
        self.metric = pn.widgets.Select(name="Metric", options=metrics, width=220,
                                        css_classes=["kf-compare-metric"])
        self.x_axis = pn.widgets.RadioButtonGroup(options=list(X_AXES), value="Step",
                                                  button_type="light", align="end")
        self.pc_metric = pn.widgets.Select(name="Colour by", options=[f"metrics.{m}" for m in metrics],
                                           width=220, css_classes=["kf-pc-metric"])
        self.sx = pn.widgets.Select(name="X", options=numeric_cols, width=220,
                                    css_classes=["kf-scatter-x"])
        self.sy = pn.widgets.Select(name="Y", options=numeric_cols,
                                    value=numeric_cols[1] if len(numeric_cols) > 1 else None,
                                    width=220, css_classes=["kf-scatter-y"])

    def curves(self, metric, x_axis):
        """Overlaid curves of ``metric`` for every run that logged it."""
        if not metric:
            return shell.html('<span class="kf-muted">These runs logged no metrics.</span>')
        series = [self._series(r, metric, X_AXES[x_axis]) for r in self.runs
                  if metric in r.data.metrics]
        return curves_chart(series, X_AXES[x_axis], metric, height=340, ylabel=metric)

    def _series(self, run, metric: str, x_axis: str) -> Series:
        color, dash = self.styles[run.info.run_id]
        history = self.client.get_metric_history(run.info.run_id, metric)
        return Series.from_history(history, run.info.run_id, run.info.run_name, color, x_axis,
                                   dash)

    def parallel(self, metric):
        """Parallel coordinates of the params, coloured by ``metric``."""
        if not metric or len(parallel_axes(self.cols, metric)) < 2:
            return shell.html('<span class="kf-muted kf-parallel-empty">Parallel coordinates need'
                              " a metric and a parameter whose value differs between these"
                              " runs.</span>")
        return pn.pane.HoloViews(parallel_coordinates(self.runs, self.cols, metric),
                                 sizing_mode="stretch_width", css_classes=["kf-parallel"],
                                 linked_axes=False)

    def scatter(self, x, y):
        """Scatter of two columns."""
        if not x or not y:
            return shell.html('<span class="kf-muted">Needs two numeric columns.</span>')
        return pn.pane.HoloViews(scatter(self.runs, self.cols, x, y, self.colors), sizing_mode="stretch_width",
                                 css_classes=["kf-scatter"], linked_axes=False)

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
