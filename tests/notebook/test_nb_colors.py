"""Issue 16.4: a run keeps its colour across views, but runs drawn together never share one."""

from __future__ import annotations

import itertools
import math
import uuid

import kernelflow as kf
from kernelflow.display import PALETTE, distinct_colors, run_color
from kernelflow.widgets.compare import CompareChart


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(color: str) -> tuple[float, float, float]:
    return tuple(_linear(int(color[i:i + 2], 16) / 255) for i in (1, 3, 5))  # type: ignore[return-value]


def luminance(color: str) -> float:
    r, g, b = _rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def lab(color: str) -> tuple[float, float, float]:
    r, g, b = _rgb(color)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def colliding_ids() -> tuple[str, str]:
    seen: dict[str, str] = {}
    while True:
        rid = uuid.uuid4().hex
        color = run_color(rid)
        if color in seen:
            return seen[color], rid
        seen[color] = rid


def test_palette_is_readable_on_light_and_dark_themes():
    for color in PALETTE:
        assert contrast(color, "#ffffff") >= 2.0, color  # JupyterLab light
        assert contrast(color, "#111111") >= 2.0, color  # JupyterLab dark (--jp-layout-color0)


def test_palette_colours_are_far_apart():
    closest = min(math.dist(lab(a), lab(b)) for a, b in itertools.combinations(PALETTE, 2))
    assert closest > 25  # CIE76: no two purples, no grey beside navy


def test_colliding_runs_get_different_colours_and_first_keeps_its_own():
    a, b = colliding_ids()
    assert run_color(a) == run_color(b)
    colors = distinct_colors([a, b])
    assert colors[a] == run_color(a) and colors[b] != colors[a]
    assert distinct_colors([b]) == {b: run_color(b)}  # alone, each keeps its stable colour


def test_every_run_distinct_while_colours_last():
    ids = [uuid.uuid4().hex for _ in range(len(PALETTE))]
    assert len(set(distinct_colors(ids).values())) == len(PALETTE)
    more = distinct_colors([uuid.uuid4().hex for _ in range(3 * len(PALETTE))])
    assert set(more.values()) <= set(PALETTE)


def test_compare_chart_of_ten_runs_uses_ten_colours(tracking_uri):
    client = kf.Client()
    exp_id = kf.get_experiment_by_name("Default").experiment_id
    runs = []
    for n in range(len(PALETTE)):  # ten random ids: their hash colours almost surely collide
        run = client.create_run(exp_id, run_name=f"r{n}")
        client.log_metric(run.info.run_id, "loss", float(n), step=0)
        runs.append(client.get_run(run.info.run_id))
    chart = CompareChart(runs)
    assert len({ln.color for ln in chart.lines("loss")}) == len(PALETTE)
    page = chart._repr_html_()
    assert all(color in page for color in PALETTE)
