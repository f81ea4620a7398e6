"""Metric charts as plain SVG: no plotting library, a millisecond per chart.

Live charts re-render while training runs, so drawing must cost almost nothing
and must not import matplotlib. A chart is a list of :class:`Series` drawn as
polylines over shared axes, downsampled so a million points stay a few hundred.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from ..display import PALETTE, run_color  # noqa: F401 - one palette for notebook and dashboard

MAX_POINTS = 400
# Jupyter's theme variables (with light-theme fallbacks where they are not defined, e.g. GitHub).
FG1 = "var(--jp-ui-font-color1, #222)"
FG2 = "var(--jp-ui-font-color2, #555)"
GRID = "var(--jp-border-color2, #e0e0e0)"


@dataclass
class Series:
    """One line: x (steps) and y (values) arrays, a label and a colour."""

    label: str
    x: np.ndarray
    y: np.ndarray
    color: str = PALETTE[0]


def downsample_indices(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of about ``max_points`` points of a line, keeping each bucket's min and max.

    Keeping extremes (not every n-th point) means a loss spike never disappears
    from the chart. The first and last points are always kept.
    """
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    starts, size = edges[:-1], int(math.ceil(n / buckets))
    idx = np.minimum(starts[:, None] + np.arange(size)[None, :], n - 1)
    window = y[idx]
    finite = np.where(np.isfinite(window), window, np.nan)
    if np.isnan(finite).all():
        keep = starts
    else:
        filled_lo = np.where(np.isnan(finite), np.inf, finite)
        filled_hi = np.where(np.isnan(finite), -np.inf, finite)
        lo = idx[np.arange(len(starts)), filled_lo.argmin(axis=1)]
        hi = idx[np.arange(len(starts)), filled_hi.argmax(axis=1)]
        keep = np.concatenate([lo, hi])
    return np.unique(np.concatenate([keep, [0, n - 1]]))


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS):
    """Reduce a line to about ``max_points`` points (see :func:`downsample_indices`)."""
    if len(y) <= max_points:
        return x, y
    keep = downsample_indices(y, max_points)
    return x[keep], y[keep]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick positions covering [lo, hi] (1, 2, 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def format_number(v: float) -> str:
    """Short label for an axis tick or a latest value."""
    if v == 0 or not math.isfinite(v):
        return str(v) if not math.isfinite(v) else "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2e}"
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.4g}"


@dataclass
class _Frame:
    x0: float
    x1: float
    y0: float
    y1: float
    width: int
    height: int
    left: int = 48
    right: int = 10
    top: int = 22
    bottom: int = 22

    def px(self, x: np.ndarray) -> np.ndarray:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (x - self.x0) / span * (self.width - self.left - self.right)

    def py(self, y: np.ndarray) -> np.ndarray:
        span = (self.y1 - self.y0) or 1.0
        return self.height - self.bottom - (y - self.y0) / span * (
            self.height - self.top - self.bottom
        )


def _bounds(series: list[Series]) -> tuple[float, float, float, float] | None:
    xs = [s.x for s in series if len(s.x)]
    ys = [s.y[np.isfinite(s.y)] for s in series if len(s.y)]
    ys = [y for y in ys if len(y)]
    if not xs or not ys:
        return None
    x0, x1 = min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)
    y0, y1 = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
    if y0 == y1:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    return x0, x1, y0 - pad, y1 + pad


def _axes(f: _Frame) -> list[str]:
    parts = []
    for t in nice_ticks(f.y0, f.y1):
        y = float(f.py(np.array([t]))[0])
        parts.append(
            f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'style="stroke:{GRID}"/><text x="{f.left - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{format_number(t)}</text>"
        )
    for t in nice_ticks(f.x0, f.x1, 4):
        x = float(f.px(np.array([t]))[0])
        parts.append(
            f'<text x="{x:.1f}" y="{f.height - 6}" text-anchor="middle">{format_number(t)}</text>'
        )
    parts.append(
        f'<rect x="{f.left}" y="{f.top}" width="{f.width - f.left - f.right}" '
        f'height="{f.height - f.top - f.bottom}" fill="none" style="stroke:{GRID}"/>'
    )
    return parts


def _polyline(f: _Frame, s: Series) -> str:
    x, y = downsample(np.asarray(s.x, dtype=float), np.asarray(s.y, dtype=float))
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if not len(x):
        return ""
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(f.px(x), f.py(y), strict=True))
    attrs = f'class="kf-series" data-label="{html.escape(s.label)}" data-points="{len(s.y)}"'
    if len(x) == 1:
        cx, cy = pts.split(",")
        return f'<circle {attrs} cx="{cx}" cy="{cy}" r="2.5" fill="{s.color}"/>'
    return f'<polyline {attrs} fill="none" stroke="{s.color}" stroke-width="1.6" points="{pts}"/>'


def line_chart(series: list[Series], title: str = "", width: int = 360, height: int = 220,
               background: str | None = None) -> str:
    """Render series as one SVG line chart (x = step) and return its markup.

    Args:
        series: the lines to draw; empty ones are skipped.
        title: shown top-left (usually the metric key).
        width: pixels.
        height: pixels.
        background: a fill behind the chart (for pictures, which the page's theme can't reach).
    """
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kf-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'font-size="10" style="fill:{FG2};max-width:100%;height:auto">'
        + (f'<rect width="100%" height="100%" rx="4" fill="{background}"/>' if background else "")
        + f'<text x="4" y="13" font-size="12" font-weight="bold" style="fill:{FG1}">'
        f"{html.escape(title)}</text>"
    )
    bounds = _bounds(series)
    if bounds is None:
        return head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data yet</text></svg>'
    frame = _Frame(*bounds, width=width, height=height)
    body = _axes(frame) + [_polyline(frame, s) for s in series]
    return head + "".join(body) + "</svg>"


def legend(items: list[tuple[str, str]]) -> str:
    """HTML legend: (label, colour) pairs as coloured swatches."""
    spans = "".join(
        f'<span style="margin-right:12px;white-space:nowrap"><span style="display:inline-block;'
        f'width:10px;height:10px;background:{c};margin-right:4px;border-radius:2px"></span>'
        f"{html.escape(label)}</span>"
        for label, c in items
    )
    return (f'<div class="kf-legend" style="font:12px var(--jp-ui-font-family, sans-serif);'
            f'margin:4px 0;color:{FG1}">{spans}</div>')


def chart_grid(charts: list[str]) -> str:
    """Lay several SVG charts out side by side, wrapping."""
    cells = "".join(f'<div style="flex:0 0 auto">{c}</div>' for c in charts)
    return f'<div class="kf-grid" style="display:flex;flex-wrap:wrap;gap:8px">{cells}</div>'
