"""The compare page's pure helpers: which axes parallel coordinates draw, and their scales."""

from __future__ import annotations

from kernelflow_dashboard.ui.compare import _scale, _spaced, padded, parallel_axes


def test_parallel_axes_skip_params_every_run_shares():
    cols = {"params.lr": ["0.1", "0.01"], "params.seed": ["7", "7"], "metrics.acc": [0.5, 0.6]}
    assert parallel_axes(cols, "metrics.acc") == ["params.lr", "metrics.acc"]


def test_numbers_spanning_decades_go_on_a_log_scale():
    positions, ticks = _scale(["0.1", "0.01", "0.001"])
    assert [round(p, 6) for p in positions] == [1.0, 0.5, 0.0]
    assert [t for _, t in ticks] == ["0.001", "0.01", "0.1"]


def test_a_single_value_sits_mid_axis_and_text_spreads_by_category():
    assert _scale([3.0, 3.0]) == ([0.5, 0.5], [(0.5, "3")])
    positions, ticks = _scale(["tree", "mlp", "linear"])
    assert positions == [1.0, 0.5, 0.0] and [t for _, t in ticks] == ["linear", "mlp", "tree"]


def test_crowded_tick_labels_are_thinned_but_ends_kept():
    ticks = [(i / 99, str(i)) for i in range(100)]
    kept = _spaced(ticks)
    assert kept[0] == ticks[0] and kept[-1] == ticks[-1]
    assert len(kept) <= 16
    assert all(b[0] - a[0] >= 0.07 for a, b in zip(kept, kept[1:], strict=False))


def test_padded_ranges_leave_room_and_survive_one_value():
    lo, hi = padded([0.7, 0.9])
    assert lo < 0.7 and hi > 0.9
    assert padded([5.0]) == (4.4, 6.2)
    assert padded([]) == (None, None)
