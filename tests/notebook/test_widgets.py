"""Widgets through their traits: live charts, runs table, compare, registry browser."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

import kernelflow as kf
from kernelflow.errors import KernelflowError
from kernelflow.widgets import svg
from kernelflow.widgets.compare import CompareChart, compare_runs
from kernelflow.widgets.live_chart import LiveChart, _poller
from kernelflow.widgets.runs_table import RunsTable


# -- svg ---------------------------------------------------------------------------
def test_downsample_keeps_spikes_and_ends():
    x = np.arange(100_000)
    y = np.zeros(100_000)
    y[54_321] = 50.0
    y[77_777] = -9.0
    dx, dy = svg.downsample(x, y, 400)
    assert len(dx) <= 402
    assert 50.0 in dy and -9.0 in dy
    assert dx[0] == 0 and dx[-1] == 99_999


def test_downsample_leaves_short_series_alone():
    x, y = np.arange(10), np.arange(10.0)
    dx, dy = svg.downsample(x, y)
    assert dx is x and dy is y


def test_nice_ticks_are_round_and_cover_range():
    assert svg.nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert svg.nice_ticks(3, 3) == [3]


def test_line_chart_draws_one_polyline_per_series_and_skips_nan():
    s1 = svg.Series("a", np.arange(5), np.array([1.0, np.nan, 3.0, 2.0, 1.0]))
    s2 = svg.Series("b", np.arange(3), np.array([0.0, 1.0, 2.0]), "#f28e2b")
    chart = svg.line_chart([s1, s2], title="loss<1>")
    assert chart.count('class="kf-series"') == 2
    points = re.search(r'data-label="a"[^>]*points="([^"]+)"', chart).group(1)
    assert len(points.split()) == 4  # the NaN point is left out
    assert "loss&lt;1&gt;" in chart


def test_empty_chart_says_no_data():
    assert "no data yet" in svg.line_chart([], title="x")


def test_run_color_is_stable():
    assert svg.run_color("abc") == svg.run_color("abc") in svg.PALETTE


# -- live chart --------------------------------------------------------------------
def test_live_chart_shows_points_through_widget_value(tracking_uri):
    with kf.start_run(run_name="live") as run:
        chart = LiveChart(run.info.run_id).display()
        assert chart.widget.value == ""  # invisible until the first point
        for i in range(300):
            kf.log_metrics({"loss": 1 / (i + 1), "acc": i / 300}, step=i)
        kf.flush()
        assert chart.refresh() is True
        assert chart.refresh() is False  # nothing new: no redraw
    chart.stop()
    value = chart.widget.value  # the header
    assert 'data-points="300"' in value
    assert "FINISHED" in value and "live" in value
    # the interactive charts got every key, downsampled points with steps and times
    plots = {c["key"]: c["series"][0] for c in chart.plot.spec["charts"]}
    assert set(plots) == {"loss", "acc"} and len(plots["loss"]["step"]) == 300
    assert plots["loss"]["value"][-1] == pytest.approx(1 / 300, rel=1e-6)
    assert chart.html.count('class="kf-series"') == 2  # the static rendering of the same state


def test_live_chart_updates_in_background_while_run_goes_on(tracking_uri):
    run = kf.start_run(run_name="bg")
    chart = LiveChart(run.info.run_id, min_interval=0.05).display().start()
    kf.log_metric("loss", 1.0, step=0)
    deadline = time.monotonic() + 30  # generous: the chart backs off when the machine is busy
    while 'data-points="1"' not in chart.widget.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert 'data-points="1"' in chart.widget.value
    for i in range(1, 50):
        kf.log_metric("loss", 1.0 / (i + 1), step=i)
    while 'data-points="50"' not in chart.widget.value and time.monotonic() < deadline:
        time.sleep(0.05)
    assert 'data-points="50"' in chart.widget.value
    kf.end_run()
    while chart in _poller().charts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert chart not in _poller().charts()  # stops by itself once the run ended
    assert "FINISHED" in chart.widget.value


def test_live_chart_only_given_keys(tracking_uri):
    with kf.start_run() as run:
        kf.log_metrics({"a": 1.0, "b": 2.0})
        kf.flush()
        chart = LiveChart(run.info.run_id, keys=["b"])
        chart.refresh()
    assert 'data-label' in chart.html and ">b</text>" in chart.html and ">a</text>" not in chart.html


def test_live_chart_reports_a_deleted_run(tracking_uri):
    run = kf.start_run()
    kf.end_run()
    kf.delete_run(run.info.run_id)
    kf.Client().get_run_info(run.info.run_id)  # still readable
    chart = LiveChart("no-such-run")
    assert chart.refresh() is True
    assert chart.error and "kernelflow live chart" in chart.html


def test_live_without_run_explains(tracking_uri):
    with pytest.raises(KernelflowError, match="no run to follow"):
        kf.widgets.live()


def test_kf_run_shows_live_chart_with_final_state(tracking_uri, run_cell, shell):
    run_cell("%%kf run --name charted\nfor i in range(100): kf.log_metric('loss', i * 0.5, step=i)")
    chart = shell.user_ns["_kf_live"]
    assert chart.run_id == kf.search_runs(output_format="list")[0].info.run_id
    assert 'data-points="100"' in chart.html and "FINISHED" in chart.html
    assert chart not in _poller().charts()


def test_live_magic_follows_active_run(tracking_uri, shell):
    with kf.start_run() as run:
        shell.run_line_magic("kf", "live")
        chart = shell.user_ns["_kf_live"]
        assert chart.run_id == run.info.run_id and chart.widget is not None
        kf.log_metric("x", 1.0)
    chart.stop()
    assert [c["key"] for c in chart.plot.spec["charts"]] == ["x"]
    assert "x</text>" in chart.html


# -- runs table --------------------------------------------------------------------
@pytest.fixture
def three_runs(tracking_uri):
    ids = {}
    for name, acc, lr in (("r1", 0.5, "0.1"), ("r2", 0.9, "0.01"), ("r3", 0.7, "0.001")):
        with kf.start_run(run_name=name) as run:
            kf.log_param("lr", lr)
            for step in range(3):
                kf.log_metric("acc", acc * (step + 1) / 3, step=step)
        ids[name] = run.info.run_id
    return ids


def names(table):
    return [r.info.run_name for r in table.runs]


def test_runs_table_filters_through_the_text_box(three_runs):
    table = RunsTable()
    assert names(table) == ["r3", "r2", "r1"]  # newest first
    table.widget  # noqa: B018
    table.filter_box.value = "metrics.acc > 0.6"
    assert names(table) == ["r3", "r2"]
    for n in ("r3", "r2"):  # a checkbox per shown row (issue 16.7)
        assert f"class='kf-pick' data-run='{three_runs[n]}'" in table.table.html
    assert ">r1<" not in table.table.html


def test_runs_table_sorts_through_dropdown_and_direction(three_runs):
    table = RunsTable()
    table.widget  # noqa: B018
    assert ("metric acc", "metrics.`acc`") in table.sort_box.options
    table.sort_box.value = "metrics.`acc`"
    assert names(table) == ["r2", "r3", "r1"]
    table.direction.value = "ASC"
    assert names(table) == ["r1", "r3", "r2"]
    table.sort_box.value = "params.`lr`"
    assert names(table) == ["r3", "r2", "r1"]


def test_runs_table_bad_filter_shows_error_and_keeps_rows(three_runs):
    table = RunsTable()
    table.widget  # noqa: B018
    table.filter_box.value = "metrics.acc >>> 1"
    assert table.error and len(table.runs) == 3
    assert "--jp-error-color1" in table.message.value


def test_runs_table_columns_and_max(three_runs):
    table = RunsTable(columns=["params.lr"], max_results=2)
    assert table.metric_columns() == [] and table.param_columns() == ["lr"]
    assert len(table.runs) == 2
    assert "<th>lr</th>" in table.table_html() and "<th>acc</th>" not in table.table_html()
    table.widget  # noqa: B018
    table.max_box.value = 3
    assert len(table.runs) == 3


def test_runs_table_compare_selected(three_runs):
    table = RunsTable()
    table.widget  # noqa: B018
    table.table.selected = [three_runs["r1"], three_runs["r2"]]  # as ticking two rows does
    table.compare_button.click()
    [shown] = table.compare_view.outputs
    page = shown["data"]["text/html"]
    assert page.count('class="kf-series"') == 2
    assert "r1 (" in page and "r3 (" not in page


def test_runs_table_text_and_mimebundle(three_runs):
    table = RunsTable()
    bundle = table._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "r2" in bundle["text/plain"] and "<table" in bundle["text/html"]


def test_runs_table_empty(tracking_uri):
    assert "No runs match" in RunsTable().table_html()


# -- compare -----------------------------------------------------------------------
def test_compare_unknown_metric_lists_known_ones(three_runs):
    with pytest.raises(KernelflowError, match="they have: acc"):
        compare_runs(["r1", "r2"], ["loss"])


def test_compare_duplicate_names_picks_newest(tracking_uri, capsys):
    for value in (1.0, 2.0):
        with kf.start_run(run_name="dup"):
            kf.log_metric("m", value)
    chart = compare_runs(["dup"])
    assert chart.runs[0].data.metrics["m"] == 2.0
    assert "2 runs are named 'dup'" in capsys.readouterr().err


def test_compare_needs_runs(tracking_uri):
    with pytest.raises(KernelflowError):
        CompareChart([])
