"""Issue 16.7: the runs table ticks rows, groups columns, links runs, shows filter errors as typed."""

from __future__ import annotations

import pytest

import kernelflow as kf
from kernelflow.magics import dashboard
from kernelflow.widgets.runs_table import RunsTable


@pytest.fixture
def runs(tracking_uri):
    ids = {}
    for name, acc, lr in (("a", 0.5, "0.1"), ("b", 0.9, "0.01")):
        with kf.start_run(run_name=name) as run:
            kf.log_metric("acc", acc)
            kf.log_param("lr", lr)
            ids[name] = run.info.run_id
    return ids


def test_rows_have_checkboxes_and_ticking_them_selects(runs):
    table = RunsTable()
    table.widget  # noqa: B018
    page = table.table.html
    assert page.count("class='kf-pick'") == 2 and "kf-pick-all" in page
    table.table.selected = [runs["a"]]
    assert table.selected == [runs["a"]]
    chart = table.compare()
    assert [r.info.run_name for r in chart.runs] == ["a"]


def test_selection_drops_runs_a_filter_hides(runs):
    table = RunsTable()
    table.widget  # noqa: B018
    table.table.selected = [runs["a"], runs["b"]]
    table.filter_box.value = "metrics.acc > 0.6"
    assert table.selected == [runs["b"]]


def test_metric_and_param_columns_are_grouped(runs):
    page = RunsTable().table_html()
    assert "<th class='kf-group' colspan='1'>Metrics</th>" in page
    assert "<th class='kf-group' colspan='1'>Params</th>" in page
    assert page.index("Metrics</th>") < page.index("Params</th>")
    assert "rowspan='2'>run</th>" in page


def test_static_table_has_no_checkboxes(runs):
    bundle = RunsTable()._repr_mimebundle_()
    assert "kf-pick" not in bundle["text/html"] and "<table" in bundle["text/html"]


def test_run_names_link_to_a_running_dashboard(runs):
    page = RunsTable(dashboard_url="http://127.0.0.1:5123").table_html()
    assert f"href='http://127.0.0.1:5123/run?id={runs['a']}'" in page
    assert "href=" not in RunsTable().table_html()  # no dashboard, no dead links


def test_runs_magic_links_when_this_kernel_started_a_dashboard(runs, shell, monkeypatch):
    assert dashboard.running_url() is None
    table = shell.run_line_magic("kf", "runs")
    assert table.dashboard_url is None
    monkeypatch.setattr(dashboard, "_processes", {5123: _Alive()})
    table = shell.run_line_magic("kf", "runs")
    assert table.dashboard_url == "http://127.0.0.1:5123"
    assert "/run?id=" in table.table_html()


class _Alive:
    def poll(self):
        return None


def test_filter_error_keeps_the_caret_under_the_character(runs):
    table = RunsTable()
    table.widget  # noqa: B018
    table.filter_box.value = "metrics.acc >> 0.9"
    shown = table.message.value
    assert shown.startswith("<pre") and "white-space:pre" in shown and "monospace" in shown
    lines = table.error.splitlines()
    expr = next(i for i, ln in enumerate(lines) if ln == "metrics.acc >> 0.9")
    caret = lines[expr + 1]
    assert caret.strip() == "^" and caret.index("^") == 13  # under the second '>'
    assert "metrics.acc &gt;&gt; 0.9\n" + " " * 13 + "^" in shown


def test_compare_button_label_fits(runs):
    table = RunsTable()
    table.widget  # noqa: B018
    assert table.compare_button.description == "Compare selected"
    assert table.compare_button.layout.width == "auto"


def test_runs_link_to_a_dashboard_of_this_store_on_the_default_port(runs, monkeypatch):
    monkeypatch.setattr(dashboard, "who_serves", lambda host, port: dashboard.SAME_STORE
                        if port == dashboard.DEFAULT_PORT else dashboard.NOTHING)
    assert dashboard.running_url() == f"http://127.0.0.1:{dashboard.DEFAULT_PORT}"
    monkeypatch.setattr(dashboard, "who_serves", lambda host, port: dashboard.OTHER_STORE)
    assert dashboard.running_url() is None  # another store's server: its run pages don't match
