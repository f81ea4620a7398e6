"""Issues 16.1, 16.2 and 16.7 in a real JupyterLab with a running kernel: cells run in Lab, the
live chart ends as the interactive final chart, the runs table ticks rows and compares them,
and after saving and reloading the page the charts are still there. Screenshots in test-artifacts/."""

from __future__ import annotations

import os

import nbformat
import pytest
from browser_helpers import shot
from nb_lab_helpers import lab_server, run_all
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

CELLS = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name lab-a\nimport time\nfor i in range(30):\n"
    "    kf.log_metric('loss', 1 / (i + 1), step=i)\n    time.sleep(0.02)",
    "%%kf run --name lab-b\nfor i in range(30):\n    kf.log_metric('loss', 2 / (i + 1), step=i)",
    "%kf runs",
]


SLOW = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name slow\nimport time\nfor i in range(400):\n"
    "    kf.log_metric('loss', 1 / (i + 1), step=i)\n    time.sleep(0.05)",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("labkernel")
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "live.ipynb")
    slow = new_notebook(cells=[new_code_cell(c) for c in SLOW])
    slow.metadata["kernelspec"] = nb.metadata["kernelspec"]
    nbformat.write(slow, root / "slow.ipynb")
    env = dict(os.environ, KERNELFLOW_TRACKING_URI=f"sqlite:///{root}/kf.db")
    with lab_server(root, env) as server:
        yield server


def cell(page, n: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(n)


def test_cells_run_in_lab_end_with_interactive_charts_and_a_working_runs_table(lab, page):
    run_all(page, lab, "live.ipynb")
    picks = cell(page, 3).locator("input.kf-pick")
    try:
        picks.first.wait_for(state="visible", timeout=90_000)
    finally:
        shot(page, "nb-lab-kernel-ran")
    # the live charts were replaced by the final, interactive ones when each run ended
    for n in (1, 2):
        final = cell(page, n).locator(".kf-final .kf-interactive svg.kf-chart")
        final.first.wait_for(state="visible", timeout=30_000)
        assert "FINISHED" in cell(page, n).locator(".kf-final .kf-live-head").inner_text()
        # the live widget is gone: its output is left empty, hidden by the final chart's CSS
        cell(page, n).locator(".kernelflow-live").wait_for(state="detached", timeout=10_000)
        outputs = cell(page, n).locator(".jp-OutputArea-child")
        assert outputs.count() == 2 and outputs.nth(0).is_visible() and outputs.nth(1).is_hidden()
    assert picks.count() == 2
    picks.nth(0).check()
    picks.nth(1).check()
    button = cell(page, 3).get_by_role("button", name="Compare selected")
    assert button.bounding_box()["width"] >= 140  # the label fits
    button.click()
    compare = cell(page, 3).locator(".kf-compare .kf-interactive polyline.kf-series")
    compare.first.wait_for(state="visible", timeout=30_000)
    assert compare.count() == 2
    assert "lab-a" in cell(page, 3).locator(".kf-compare .kf-legend").inner_text()
    shot(page, "nb-lab-kernel-runs-table")
    # save, reload: the charts are part of the notebook now
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    page.reload(wait_until="domcontentloaded")
    # Lab signed the notebook it saved, so the reloaded charts are interactive again
    cell(page, 1).locator(".kf-final .kf-interactive svg.kf-chart").first.wait_for(
        state="visible", timeout=60_000)
    saved = nbformat.read(lab.root / "live.ipynb", as_version=4)
    out, emptied = [o for o in saved.cells[1].outputs if o.output_type == "display_data"]
    assert emptied.data == {"text/plain": ""}  # was the live widget's output
    assert "application/vnd.jupyter.widget-view+json" not in out.data
    assert "kf-final" in out.data["text/html"] and "loss 0.03333" in out.data["text/html"]
    shot(page, "nb-lab-kernel-after-reload")


def test_live_chart_is_interactive_while_the_run_goes_on(lab, page):
    run_all(page, lab, "slow.ipynb")
    out = cell(page, 1)
    chart = out.locator(".kernelflow-live .kf-live-plot svg.kf-chart").first
    chart.wait_for(state="visible", timeout=90_000)
    assert "RUNNING" in out.locator(".kernelflow-live .kf-live-head").inner_text()
    assert out.locator(".kf-fallback").is_hidden()  # the static copy hides while the widget shows
    out.locator("input.kf-log").check()  # a setting made while points arrive ...
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    tip = out.locator(".kf-tip").first
    tip.wait_for(state="visible")
    assert "step" in tip.inner_text() and "slow:" in tip.inner_text()
    shot(page, "nb-lab-live-chart-running")
    first = int(out.locator(".kernelflow-live .kf-points").get_attribute("data-points"))
    page.wait_for_function(
        "([sel, n]) => +document.querySelectorAll(sel)[1]?.querySelector('.kernelflow-live .kf-points')"
        "?.dataset.points > n", arg=[".jp-Notebook .jp-Cell", first], timeout=30_000)
    assert out.locator("input.kf-log").is_checked()  # ... survives the redraws
    assert "(log)" in chart.locator(".kf-ylabel").text_content()
    out.locator(".kf-final .kf-interactive svg.kf-chart").first.wait_for(
        state="visible", timeout=120_000)
    assert "FINISHED" in out.locator(".kf-final .kf-live-head").inner_text()
