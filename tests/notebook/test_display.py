"""One palette, one relative time and one duration for the notebook and the dashboard."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from kernelflow import display
from kernelflow.widgets import _fmt, svg

RUN_IDS = [uuid.uuid4().hex for _ in range(200)] + ["abc", ""]
NOW = 1_700_000_000_000


def test_notebook_charts_and_tables_use_the_shared_run_colour():
    for run_id in RUN_IDS:
        assert svg.run_color(run_id) == display.run_color(run_id) in display.PALETTE
    assert "display:inline-block" in _fmt.run_name_cell("r", "abc")
    assert display.run_color("abc") in _fmt.run_name_cell("r", "abc")


def test_notebook_and_dashboard_give_a_run_the_same_colour():
    from kernelflow_dashboard.ui import formatting
    for run_id in RUN_IDS:
        assert formatting.run_color(run_id) == svg.run_color(run_id)
    assert formatting.PALETTE == display.PALETTE


def test_palette_is_spread_over_many_run_ids():
    # Ten hues chosen for distinctness (issue 16); collisions within a view are resolved apart.
    assert len(set(display.PALETTE)) == len(display.PALETTE) == 10
    assert len({display.run_color(r) for r in RUN_IDS}) == 10


@pytest.mark.parametrize("ms, text", [
    (NOW - 1000, "just now"), (NOW - 5000, "5 seconds ago"), (NOW - 60_000, "1 minute ago"),
    (NOW - 3 * 60_000, "3 minutes ago"), (NOW - 86_400_000, "1 day ago"), (None, "-"), (0, "-"),
])
def test_relative_time(ms, text):
    assert display.relative_time(ms, NOW) == text


@pytest.mark.parametrize("start, end, text", [
    (NOW, NOW + 9, "9ms"), (NOW, NOW + 2500, "2.5s"), (NOW, NOW + 65_000, "1m 5s"),
    (NOW, NOW + 3_720_000, "1h 2m"), (None, NOW, "-"),
])
def test_duration(start, end, text):
    assert display.duration(start, end, NOW) == text


def test_running_run_counts_up_to_now():
    assert display.duration(NOW, None, NOW + 2500) == "2.5s"


def test_notebook_and_dashboard_share_relative_time_and_duration():
    from kernelflow_dashboard.ui import formatting
    for ms in (NOW - 1000, NOW - 3 * 60_000, NOW - 90_000_000, None):
        assert _fmt.ago(ms, NOW) == formatting.relative_time(ms, NOW) == display.relative_time(ms, NOW)
    for end in (NOW + 9, NOW + 65_000, None):
        assert _fmt.duration(NOW, end, NOW + 1) == formatting.duration(NOW, end, NOW + 1)


def test_display_imports_nothing_heavy():
    code = ("import sys, kernelflow.display as d; d.run_color('x'); "
            "print(sorted(m for m in ('numpy', 'IPython', 'ipywidgets', 'panel', 'bokeh', "
            "'kernelflow.client', 'kernelflow.store') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
