"""The runs page in a real headless Chromium: paging, filter, selection, compare, delete, XSS."""

from __future__ import annotations

import time

import pytest
from browser_helpers import (
    open_page,
    row_texts,
    run_names,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser

N_RUNS = 60
XSS_NAME = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def seeded(dashboard_server):
    """An experiment ``ui-runs`` with 60 finished runs (newest last) and one hostile name."""
    import kernelflow
    from kernelflow.entities import Metric, Param

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("ui-runs")
    now = int(time.time() * 1000)
    ids = []
    for i in range(N_RUNS):
        run = client.create_run(exp, run_name=f"run-{i:02d}", start_time=now - (N_RUNS - i) * 60_000)
        rid = run.info.run_id
        client.log_batch(rid, params=[Param("model", "tree" if i % 2 else "linear")],
                         metrics=[Metric("acc", i / 100, now, s) for s in range(3)])
        client.set_terminated(rid)
        ids.append(rid)
    xss = client.create_run(exp, run_name=XSS_NAME, start_time=now - 30 * 60 * 60_000)
    client.log_param(xss.info.run_id, "note", '<img src=x onerror="alert(3)">')
    client.set_terminated(xss.info.run_id)
    client.flush()
    return {"url": dashboard_server.url, "ids": ids, "client": client, "exp": exp}


def matching(pg) -> int:
    """The run count the page reports."""
    return int(pg.locator(".kf-summary b").inner_text().replace(",", ""))


def runs_url(seeded, name="ui-runs"):
    return f"{seeded['url']}/runs?experiment={name}"


def test_runs_page_shows_newest_first_with_count_and_pages(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    names = run_names(page)
    assert len(names) == 50
    assert names[:2] == ["run-59", "run-58"]
    assert matching(page) == 61
    page.locator(".kf-next button").click()
    wait_until(page, lambda: "51–61" in page.locator(".kf-summary").inner_text(), "page two")
    names = run_names(page)
    assert len(names) == 11 and names[0] == "run-09" and names[-1] == XSS_NAME
    shot(page, "runs-page-two")


def test_filter_narrows_runs_and_bad_filter_says_why(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    box = page.locator(".kf-filter input")
    box.fill("params.model = 'tree' and metrics.acc >= 0.5")
    box.press("Enter")
    wait_until(page, lambda: matching(page) == 5, "the filtered count")
    assert run_names(page) == ["run-59", "run-57", "run-55", "run-53", "run-51"]
    assert all("tree" in r for r in row_texts(page))
    box.fill("metrics.acc >>> 1")
    box.press("Enter")
    error = page.locator(".kf-filter-error")
    error.wait_for(state="visible")
    assert "position 13" in error.inner_text() and "^" in error.inner_text()
    wait_until(page, lambda: page.locator(".kf-runs .tabulator-row").count() == 0,
               "the stale rows to go")
    assert "fix the filter" in page.locator(".kf-summary").inner_text()
    assert cut_titles(page) == []  # an empty table still shows whole headers
    shot(page, "runs-bad-filter")


def select_value(pg, css: str) -> str:
    """The shown value of a Panel Select widget."""
    return pg.locator(f"{css} select").input_value()


def test_header_click_sorts_all_runs_in_sql_and_syncs_the_sort_controls(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    header = page.locator(".kf-runs .tabulator-col[tabulator-field='metrics.acc']")
    header.locator(".tabulator-col-title").click()
    wait_until(page, lambda: run_names(page)[:1] == ["run-00"], "ascending acc")
    assert run_names(page)[:3] == ["run-00", "run-01", "run-02"]
    assert select_value(page, ".kf-sort") == "metrics.acc"
    assert "Ascending" in select_value(page, ".kf-order")
    assert "↑" in header.inner_text()
    header.locator(".tabulator-col-title").click()  # again: flips, over all 61 runs
    wait_until(page, lambda: run_names(page)[:1] == ["run-59"], "descending acc")
    page.locator(".kf-next button").click()
    wait_until(page, lambda: "51–61" in page.locator(".kf-summary").inner_text(), "page two")
    assert run_names(page)[-2:] == ["run-00", XSS_NAME]  # runs without the metric go last
    shot(page, "runs-sorted-by-header")


def cut_titles(pg) -> list[str]:
    """The column and group titles of the runs table that do not fit their header."""
    return pg.locator(".kf-runs .tabulator-col-title").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.innerText)")


def test_one_metric_column_keeps_its_group_label_whole(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    title = page.locator(".kf-runs .tabulator-col-group .tabulator-col-title",
                         has_text="Metrics").first
    assert title.inner_text() == "Metrics"
    assert cut_titles(page) == []


def test_select_two_runs_then_compare(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    checks = page.locator(".kf-runs .tabulator-row input[type=checkbox]")
    checks.nth(0).click()
    checks.nth(1).click()
    link = page.locator("a.kf-compare")
    wait_until(page, lambda: "Compare 2 runs" in link.inner_text(), "the compare link")
    link.click()
    page.locator(".kf-chart canvas").first.wait_for(state="visible")
    names = page.locator(".kf-compare-runs").inner_text()
    assert "run-59" in names and "run-58" in names
    assert "Comparing 2 runs" in page.locator("h1").first.inner_text()
    page.locator(".kf-diff").wait_for()
    shot(page, "compare-two-runs")


def test_delete_selected_run(seeded, page):
    client = seeded["client"]
    victim = client.create_run(seeded["exp"], run_name="doomed-run")
    client.set_terminated(victim.info.run_id)
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    assert run_names(page)[0] == "doomed-run"
    page.locator(".kf-runs .tabulator-row input[type=checkbox]").nth(0).click()
    page.locator(".kf-delete button").click()
    wait_until(page, lambda: run_names(page)[:1] == ["run-59"], "the run to disappear")
    assert client.get_run(victim.info.run_id).info.lifecycle_stage == "deleted"


def test_hostile_run_name_and_param_are_shown_as_text(seeded, page):
    open_page(page, runs_url(seeded) + "", ".kf-runs .tabulator-row")
    box = page.locator(".kf-filter input")
    box.fill("params.note LIKE '%img%'")
    box.press("Enter")
    wait_until(page, lambda: matching(page) == 1, "the hostile run")
    assert run_names(page) == [XSS_NAME]
    page.get_by_text(XSS_NAME).first.click()  # the name is a link to the run page
    page.locator(".kf-run-name").wait_for()
    assert page.locator(".kf-run-name").inner_text() == XSS_NAME
    assert '<img src=x onerror="alert(3)">' in page.locator(".kf-params").inner_text()
    page.wait_for_timeout(500)
    shot(page, "xss-run-page")
    # the page fixture fails the test if any alert() ran


def test_unknown_experiment_explains(seeded, page):
    open_page(page, runs_url(seeded, "no-such-exp"), ".kf-error")
    assert "No experiment named 'no-such-exp'" in page.locator(".kf-error").inner_text()


def test_new_and_running_runs_show_up_without_reload(seeded, page):
    open_page(page, runs_url(seeded), ".kf-runs .tabulator-row")
    before = matching(page)
    client = seeded["client"]
    live = client.create_run(seeded["exp"], run_name="arrived-later")
    wait_until(page, lambda: run_names(page)[:1] == ["arrived-later"], "the new run",
               timeout_ms=15_000)
    assert matching(page) == before + 1
    status = page.locator(".kf-runs .tabulator-row").first.locator("[tabulator-field='Status']")
    assert "Running" in status.inner_text()
    client.set_terminated(live.info.run_id)
    wait_until(page, lambda: "Finished" in status.inner_text(), "the status to change",
               timeout_ms=15_000)
    client.delete_run(live.info.run_id)
