"""Metric curves: HoloViews charts redrawn from downsampled data for the visible x range."""

from __future__ import annotations

from dataclasses import dataclass

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.models import BasicTicker, NumeralTickFormatter

from .downsample import downsample, visible

hv.extension("bokeh", logo=False)

POINTS_PER_CHART = 1500
SHOW_MARKERS_BELOW = 30
X_AXES = {"Step": "step", "Wall time": "time", "Relative time (s)": "relative"}


@dataclass
class Series:
    """One metric of one run, sorted by x, ready to slice and downsample."""

    run_id: str
    label: str
    color: str
    x: np.ndarray
    y: np.ndarray
    dash: str = "solid"
    _full: tuple | None = None

    @classmethod
    def from_history(cls, history, run_id: str, label: str, color: str, x_axis: str,
                     dash: str = "solid") -> Series:
        """Build a series from a MetricHistory for ``x_axis`` (step, time or relative)."""
        if x_axis == "step":
            x = np.asarray(history.steps, dtype=np.float64)
        else:
            x = np.asarray(history.timestamps, dtype=np.float64)
            if x_axis == "relative" and len(x):
                x = (x - x.min()) / 1000.0
        y = np.asarray(history.values, dtype=np.float64)
        if len(x) > 1 and np.any(np.diff(x) < 0):
            order = np.argsort(x, kind="stable")
            x, y = x[order], y[order]
        return cls(run_id, label, color, x, y, dash)

    def view(self, x_range) -> tuple[np.ndarray, np.ndarray]:
        """The downsampled points inside ``x_range`` (all points when None or wider)."""
        if len(self.x) and x_range is not None and x_range[0] is not None and \
                x_range[0] <= self.x[0] and x_range[1] >= self.x[-1]:
            x_range = None
        if x_range is None:
            if self._full is None:  # the first draw and every reset reuse this
                self._full = downsample(self.x, self.y, POINTS_PER_CHART)
            return self._full
        return downsample(*visible(self.x, self.y, x_range), POINTS_PER_CHART)


def _to_ms(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return float(np.datetime64(value, "ms").astype(np.int64))


def _curve(series: Series, x_axis: str, x_range, ylabel: str) -> hv.Curve:
    xs, ys = series.view(x_range)
    if x_axis == "time":
        xs = xs.astype("int64").astype("datetime64[ms]")
    xlabel = {"step": "step", "time": "time", "relative": "seconds"}[x_axis]
    curve = hv.Curve((xs, ys), kdims=[xlabel], vdims=[ylabel], label=series.label).opts(
        color=series.color, line_width=1.6, line_dash=series.dash, tools=["hover"],
    )
    if x_axis == "step":
        # steps are whole numbers: no 0.5 ticks on a short run
        curve = curve.opts(xformatter=NumeralTickFormatter(format="0,0"),
                           xticks=BasicTicker(min_interval=1))
    if len(xs) <= SHOW_MARKERS_BELOW:  # a single point draws no line: mark points too
        dots = hv.Scatter((xs, ys), kdims=[xlabel], vdims=[ylabel], label=series.label)
        return curve * dots.opts(color=series.color, size=7)
    return curve


def curves_chart(series: list[Series], x_axis: str, title: str, height: int = 300,
                 ylabel: str = "value") -> pn.pane.HoloViews:
    """A chart of one or more curves that re-downsamples the visible range on zoom.

    Args:
        series: the curves (one per run), each with its run colour.
        x_axis: ``"step"``, ``"time"`` (wall clock) or ``"relative"`` (seconds from first point).
        title: chart title (drawn on canvas, never as HTML).
        height: pixel height.
        ylabel: name of the y dimension (the metric key).
    """
    stream = hv.streams.RangeX()

    def draw(x_range):
        if x_axis == "time" and x_range is not None:
            x_range = (_to_ms(x_range[0]), _to_ms(x_range[1]))
        overlay = hv.Overlay([])
        for s in series:
            overlay = overlay * _curve(s, x_axis, x_range, ylabel)
        if not series:
            overlay = hv.Overlay([hv.Curve([])])
        return overlay.opts(title=title, show_legend=len(series) > 1, legend_position="top_left",
                            responsive=True, height=height, toolbar="above",
                            active_tools=["box_zoom"], framewise=False)

    dmap = hv.DynamicMap(draw, streams=[stream])
    return pn.pane.HoloViews(dmap, sizing_mode="stretch_width", height=height + 10,
                             css_classes=["kf-chart"], linked_axes=False)
