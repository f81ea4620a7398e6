"""The run page in a real headless Chromium: facts, charts, cell source, artifacts, live refresh."""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import (
    bokeh_plots,
    open_page,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser


def notebook_json() -> str:
    """A small notebook: a hostile markdown cell and a code cell with its output."""
    import nbformat
    from nbformat import v4

    code = v4.new_code_cell("print('trained')", execution_count=1,
                            outputs=[v4.new_output("stream", name="stdout", text="trained\n")])
    md = v4.new_markdown_cell("# Analysis\n<script>parent.document.title='pwned'</script>")
    return nbformat.writes(v4.new_notebook(cells=[md, code]))


@pytest.fixture(scope="module")
def seeded(dashboard_server, tmp_path_factory):
    """A finished run with params, a curve, a cell source tag and artifacts of each kind."""
    import kernelflow
    from kernelflow.entities import Metric

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("ui-run")
    run = client.create_run(exp, run_name="trained-model")
    rid = run.info.run_id
    client.log_param(rid, "lr", "0.01")
    client.log_batch(rid, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s)
                                   for s in range(500)])
    client.set_tag(rid, "kernelflow.cell_source", "model.fit(X, y)  # <b>not bold</b>")
    client.log_text(rid, "epoch 1 done\n<script>alert(1)</script>", "logs/train.log")
    client.log_dict(rid, {"layers": [64, 32]}, "config.json")
    client.log_text(rid, "a,b\n1,<i>x</i>\n2,y\n", "data/sample.csv")
    client.log_text(rid, "<h1>Report</h1><script>parent.document.title='pwned'</script>",
                    "report.html")
    client.log_image(rid, np.full((8, 8, 3), 200, dtype=np.uint8), "plots/square.png")
    client.log_text(rid, notebook_json(), "analysis.ipynb")
    client.set_terminated(rid)
    wide = client.create_run(exp, run_name="many-metrics").info.run_id
    client.log_batch(wide, metrics=[Metric(f"m-{k:02d}", k / (s + 1), 0, s)
                                    for k in range(30) for s in range(3)])
    client.set_terminated(wide)
    live = client.create_run(exp, run_name="still-running")
    client.log_metric(live.info.run_id, "acc", 0.5, step=0)
    client.flush()
    return {"url": dashboard_server.url, "rid": rid, "live": live.info.run_id, "client": client,
            "wide": wide}


def test_run_page_shows_params_metrics_chart_and_cell_source(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['rid']}", ".kf-chart canvas")
    assert page.locator(".kf-run-name").inner_text() == "trained-model"
    assert "Finished" in page.locator(".kf-run-facts").inner_text()
    assert "lr" in page.locator(".kf-params").inner_text()
    assert "0.002" in page.locator(".kf-metrics").inner_text()  # latest loss, 1/500
    shot(page, "run-page")
    page.locator(".bk-tab", has_text="Cell source").click()
    source = page.locator(".kf-cell-source")  # the tab renders when opened
    wait_until(page, lambda: source.inner_text() != "", "the cell source tab")
    assert source.inner_text() == "model.fit(X, y)  # <b>not bold</b>"


def open_artifact(page, *names):
    page.locator(".bk-tab", has_text="Artifacts").click()
    for name in names:
        page.locator(".kf-artifact-list .tabulator-cell", has_text=name).first.click()


def test_artifacts_preview_text_json_csv_and_sandboxed_html(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['rid']}", ".kf-run-name")
    open_artifact(page, "logs/", "train.log")
    text = page.locator(".kf-artifact-text")
    text.wait_for()
    assert "<script>alert(1)</script>" in text.inner_text()
    open_artifact(page, "../", "config.json")
    wait_until(page, lambda: '"layers"' in page.locator(".kf-artifact-text").inner_text(), "JSON")
    open_artifact(page, "data/", "sample.csv")
    page.locator(".kf-artifact-table .tabulator-row").first.wait_for()
    cells = page.locator(".kf-artifact-table .tabulator-cell").all_inner_texts()
    assert "<i>x</i>" in cells
    open_artifact(page, "../", "plots/", "square.png")
    image = page.locator("img.kf-artifact-img")
    image.wait_for()
    assert image.evaluate("img => img.naturalWidth") == 8
    open_artifact(page, "../", "report.html")
    frame = page.locator("iframe.kf-artifact-html")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""
    assert page.frame_locator("iframe.kf-artifact-html").locator("h1").inner_text() == "Report"
    assert page.title() != "pwned"
    shot(page, "run-artifacts-html")


def test_notebook_artifact_renders_in_a_sandbox(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['rid']}", ".kf-run-name")
    open_artifact(page, "analysis.ipynb")
    frame = page.locator("iframe.kf-artifact-html")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""  # no script of the notebook may run
    body = page.frame_locator("iframe.kf-artifact-html").locator("body")
    wait_until(page, lambda: "print('trained')" in body.inner_text(), "the code cell")
    assert "Analysis" in body.inner_text() and "trained" in body.inner_text()
    assert page.title() != "pwned"
    shot(page, "run-artifacts-notebook")


def test_running_run_refreshes_without_reload(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['live']}", ".kf-metrics")
    assert "Running" in page.locator(".kf-run-facts").inner_text()
    client = seeded["client"]
    client.log_metric(seeded["live"], "acc", 0.875, step=1)
    client.flush()
    wait_until(page, lambda: "0.875" in page.locator(".kf-metrics").inner_text(),
               "the new metric value to appear", timeout_ms=15_000)
    client.set_terminated(seeded["live"])
    wait_until(page, lambda: "Finished" in page.locator(".kf-run-facts").inner_text(),
               "the status to change", timeout_ms=15_000)


def chart_titles(page) -> list[str]:
    """The metric names of the drawn charts, in page order."""
    return [t["title"].split(" (")[0] for t in bokeh_plots(page)]


def test_many_metrics_chart_a_few_then_show_more_or_filter(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['wide']}", ".kf-chart canvas")
    wait_until(page, lambda: len(chart_titles(page)) == 12, "the first twelve charts")
    assert chart_titles(page) == [f"m-{k:02d}" for k in range(12)]
    assert "12 of 30 charts shown" in page.locator(".kf-chart-count").inner_text()
    shot(page, "run-many-metrics")
    page.locator(".kf-more-charts button").click()
    wait_until(page, lambda: len(chart_titles(page)) == 24, "twelve more charts")
    page.locator(".kf-chart-filter input").fill("m-2")
    wait_until(page, lambda: sorted(chart_titles(page)) == [f"m-2{k}" for k in range(10)]
               and not page.locator(".kf-more-charts button").is_visible(),
               "only the matching charts, and no 'Show more'")


def test_missing_run_says_so(seeded, page):
    open_page(page, f"{seeded['url']}/run?id=deadbeef", ".kf-error")
    assert "No run with id 'deadbeef'" in page.locator(".kf-error").inner_text()
