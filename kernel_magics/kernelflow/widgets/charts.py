"""Interactive metric charts that survive without a kernel: static SVG plus a small script.

A chart output is one ``text/html`` block holding static pictures of the charts
(what GitHub, nbviewer and untrusted notebooks show), the chart data as JSON and
the script of ``chart.js``, which (where the output is trusted, as in JupyterLab)
replaces the pictures with charts that hover, zoom, pan, smooth and switch axes.
``image/svg+xml`` carries the same charts as one picture for viewers that show
only images.

The pictures are SVG in ``<img>`` data URIs: JupyterLab's sanitizer drops inline
``<svg>`` from untrusted HTML but keeps images. A picture can't read the page's
theme variables, so it has its own light background and stays readable on a dark page.
"""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from . import svg

MAX_POINTS = 1000  # per line in the interactive chart: enough to zoom into, small to save


@dataclass
class Line:
    """One run's points of one metric."""

    label: str
    color: str
    steps: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray
    t0: float = field(default=0.0)  # the run's start (ms): relative time counts from here


@cache
def script() -> str:
    """The chart's JavaScript (``chart.js``), read once."""
    return resources.files(__package__).joinpath("chart.js").read_text(encoding="utf-8")


def _points(line: Line) -> dict:
    y = np.asarray(line.values, dtype=float)
    ok = np.isfinite(y)
    steps, times, y = np.asarray(line.steps)[ok], np.asarray(line.timestamps)[ok], y[ok]
    keep = svg.downsample_indices(y, MAX_POINTS)
    t0 = line.t0 or (float(times[0]) if len(times) else 0.0)
    return {"label": line.label, "color": line.color, "t0": t0,
            "step": steps[keep].astype(float).tolist(), "time": times[keep].astype(float).tolist(),
            "value": [float(f"{v:.7g}") for v in y[keep].tolist()]}


def spec(charts: dict[str, list[Line]]) -> dict:
    """The JSON the script draws: one entry per metric key, one series per line."""
    return {"charts": [{"key": k, "series": [_points(ln) for ln in lines]}
                       for k, lines in charts.items()]}


PICTURE_BACKGROUND = "#ffffff"


def picture(markup: str, alt: str) -> str:
    """An SVG as an ``<img>`` with a data URI (only ``%``, ``#``, ``&`` and ``'`` are escaped,
    so the markup stays readable in the saved notebook)."""
    data = (markup.replace("%", "%25").replace("#", "%23").replace("&", "%26")
            .replace("'", "%27"))
    return (f"<img class='kf-static-chart' alt='{html.escape(alt, quote=True)}' "
            f"style='max-width:100%;height:auto' src='data:image/svg+xml;charset=utf-8,{data}'>")


def static_grid(charts: dict[str, list[Line]], width: int = 360, height: int = 220) -> str:
    """The charts as static pictures side by side (the fallback without a script)."""
    return svg.chart_grid([
        picture(svg.line_chart([svg.Series(ln.label, ln.steps, ln.values, ln.color)
                                for ln in lines], title=k, width=width, height=height,
                               background=PICTURE_BACKGROUND), f"chart of {k}")
        for k, lines in charts.items()
    ])


def interactive_html(charts: dict[str, list[Line]], head: str = "", css_class: str = "") -> str:
    """Charts as one HTML block: static SVG fallback, data, and the script that makes them live.

    Args:
        charts: metric key to the lines drawn in its chart.
        head: HTML shown above the charts (run name, status, latest values).
        css_class: extra class of the outer ``div``.
    """
    uid = f"kf-{uuid.uuid4().hex[:12]}"
    data = json.dumps(spec(charts), separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div class="kf-charts {css_class}" id="{uid}">{head}'
        f'<div class="kf-static">{static_grid(charts)}</div>'
        f'<script type="application/json" class="kf-data">{data}</script>'
        f'<script>{script()}\nkfCharts(document.getElementById("{uid}"));</script></div>'
    )


def svg_image(charts: dict[str, list[Line]], title: str = "", columns: int = 2) -> str:
    """Every chart in one standalone SVG picture (``image/svg+xml``), with a title line."""
    w, h, top = 360, 220, 24 if title else 0
    cols = max(1, min(columns, len(charts)))
    rows = max(1, -(-len(charts) // cols))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * w}" height="{rows * h + top}" '
        f'viewBox="0 0 {cols * w} {rows * h + top}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="{PICTURE_BACKGROUND}"/>'
    ]
    if title:
        parts.append(f'<text x="4" y="16" font-size="13" style="fill:{svg.FG1}">'
                     f"{html.escape(title)}</text>")
    for i, (k, lines) in enumerate(charts.items()):
        inner = svg.line_chart([svg.Series(ln.label, ln.steps, ln.values, ln.color) for ln in lines],
                               title=k, width=w, height=h, background=PICTURE_BACKGROUND)
        x, y = (i % cols) * w, top + (i // cols) * h
        parts.append(inner.replace("<svg ", f'<svg x="{x}" y="{y}" ', 1))
    parts.append("</svg>")
    return "".join(parts)
