"""The UI's pure helpers: downsampling, time and colour formatting (no browser needed)."""

from __future__ import annotations

import numpy as np

from kernelflow_dashboard.ui.downsample import downsample, lttb, minmax, visible
from kernelflow_dashboard.ui.formatting import (
    DASHES,
    PALETTE,
    distinct_colors,
    distinct_styles,
    duration,
    relative_time,
    run_color,
    run_link,
)


def test_downsample_keeps_endpoints_and_extremes_of_a_million_points():
    x = np.arange(1_000_000, dtype=float)
    y = np.sin(x / 5000.0)
    y[123_456], y[654_321] = 50.0, -50.0  # single-point spikes must survive
    xs, ys = downsample(x, y, 1500)
    assert len(xs) <= 1500
    assert xs[0] == 0 and xs[-1] == 999_999
    assert ys.max() == 50.0 and ys.min() == -50.0
    assert np.all(np.diff(xs) > 0)


def test_small_curves_pass_through_unchanged():
    x, y = np.arange(10.0), np.arange(10.0) ** 2
    xs, ys = downsample(x, y, 1500)
    assert np.array_equal(xs, x) and np.array_equal(ys, y)


def test_minmax_and_lttb_reduce_to_the_requested_size():
    x = np.arange(10_000.0)
    y = np.random.default_rng(0).normal(size=10_000)
    assert len(minmax(x, y, 200)[0]) <= 202
    assert len(lttb(x, y, 200)[0]) == 200


def test_nan_values_do_not_break_downsampling():
    x = np.arange(100_000.0)
    y = np.ones(100_000)
    y[::7] = np.nan
    xs, ys = downsample(x, y, 500)
    assert len(xs) <= 500 and np.nanmax(ys) == 1.0


def test_visible_slices_to_the_range_plus_one_point_each_side():
    x = np.arange(100.0)
    xs, _ = visible(x, x, (10.5, 20.5))
    assert xs[0] == 10 and xs[-1] == 21
    assert len(visible(x, x, None)[0]) == 100


def test_relative_times_and_durations_read_naturally():
    now = 1_000_000_000_000
    assert relative_time(now - 1000, now) == "just now"
    assert relative_time(now - 3 * 60_000, now) == "3 minutes ago"
    assert relative_time(now - 86_400_000, now) == "1 day ago"
    assert relative_time(None) == "-"
    assert duration(now, now + 9, now) == "9ms"
    assert duration(now, now + 65_000) == "1m 5s"
    assert duration(now, None, now + 2500) == "2.5s"


def test_run_colours_are_stable_and_distinct_when_drawn_together():
    assert run_color("abc") == run_color("abc") and run_color("abc") in PALETTE
    ids = [f"{i:032x}" for i in range(len(PALETTE))]
    assert len(set(distinct_colors(ids).values())) == len(PALETTE)


def test_run_link_escapes_the_name():
    html = run_link("0" * 32, '<img src=x onerror="alert(1)">')
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_more_runs_than_colours_vary_the_dash_so_no_two_lines_look_alike():
    ids = [f"{i:032x}" for i in range(3 * len(PALETTE))]
    styles = distinct_styles(ids)
    assert len(set(styles.values())) == len(ids)
    assert {dash for _, dash in styles.values()} == set(DASHES[:3])
    assert all(color in PALETTE for color, _ in styles.values())
