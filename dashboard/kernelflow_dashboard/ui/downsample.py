"""Server-side downsampling of metric curves: min-max preselection, then LTTB.

A browser cannot draw a million points fluidly, and need not: a chart is at most a
few thousand pixels wide. :func:`downsample` keeps the shape (extremes and turns) of
a curve in ``n`` points. ``x`` must be sorted ascending.
"""

from __future__ import annotations

import numpy as np


def minmax(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the min and max of each of ``n_out // 2`` equal-count buckets, in order."""
    n = len(x)
    buckets = max(1, n_out // 2)
    if n <= n_out:
        return x, y
    size = n // buckets
    usable = size * buckets
    ys = y[:usable].reshape(buckets, size)
    base = np.arange(buckets) * size
    lo = base + np.nanargmin(np.where(np.isnan(ys), np.inf, ys), axis=1)
    hi = base + np.nanargmax(np.where(np.isnan(ys), -np.inf, ys), axis=1)
    idx = np.sort(np.concatenate([[0], lo, hi, [n - 1]]))
    idx = np.unique(idx)
    return x[idx], y[idx]


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest-Triangle-Three-Buckets: pick the visually most important ``n_out`` points."""
    n = len(x)
    if n <= n_out or n_out < 3:
        return x, y
    xf, yf = x.astype(np.float64), np.nan_to_num(y.astype(np.float64))
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)
    out = np.empty(n_out, dtype=np.int64)
    out[0], out[-1] = 0, n - 1
    prev = 0
    for i in range(n_out - 2):
        lo, hi = edges[i], max(edges[i + 1], edges[i] + 1)
        nxt_hi = edges[i + 2] if i + 2 < len(edges) else n
        avg_x = xf[hi:nxt_hi].mean() if nxt_hi > hi else xf[-1]
        avg_y = yf[hi:nxt_hi].mean() if nxt_hi > hi else yf[-1]
        area = np.abs(
            (xf[prev] - avg_x) * (yf[lo:hi] - yf[prev]) - (xf[prev] - xf[lo:hi]) * (avg_y - yf[prev])
        )
        prev = lo + int(np.argmax(area))
        out[i + 1] = prev
    return x[out], y[out]


def downsample(x, y, n_out: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a curve to about ``n_out`` points keeping its shape.

    Args:
        x: sorted x values (steps or timestamps).
        y: values, same length; NaNs are kept out of the selection's maths.
        n_out: target number of points.

    Returns:
        ``(x, y)`` with at most ``n_out`` points (the input when already small).
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) <= n_out:
        return x, y
    if len(x) > 8 * n_out:
        x, y = minmax(x, y, 8 * n_out)
    return lttb(x, y, n_out)


def visible(x, y, x_range: tuple | None) -> tuple[np.ndarray, np.ndarray]:
    """Slice a sorted curve to ``x_range`` plus one point either side (so lines reach the edge)."""
    if not x_range or x_range[0] is None or x_range[1] is None:
        return x, y
    lo = max(0, int(np.searchsorted(x, x_range[0], side="left")) - 1)
    hi = min(len(x), int(np.searchsorted(x, x_range[1], side="right")) + 1)
    return x[lo:hi], y[lo:hi]
