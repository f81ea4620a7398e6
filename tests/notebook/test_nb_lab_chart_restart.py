"""Issue 16.1 for the live chart in a real JupyterLab: a `%%kf run` cell still drawing when the
kernel restarts, then saved and reloaded (or opened with no kernel), shows the chart's last
static copy (a picture of the values so far), never "Error displaying widget: model not
found". Screenshots in test-artifacts/."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from browser_helpers import shot
from nb_lab_helpers import (
    ALL_TEXT,
    VISIBLE_TEXT,
    lab_server,
    open_notebook,
    run_all,
    wait_idle,
    without_kernel,
)
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

WIDGET = "application/vnd.jupyter.widget-view+json"
CELLS = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name cut-short\nimport time\nfor i in range(100_000):\n"
    "    kf.log_metric('loss', 1 / (i + 1), step=i)\n    time.sleep(0.01)",
]
CHART = 1
COPY_POINTS = ("() => +document.querySelectorAll('.jp-Notebook .jp-Cell')[1]"
               "?.querySelector('.kf-fallback .kf-points')?.dataset.points || 0")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("labchart")
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "cut.ipynb")
    env = dict(os.environ, KERNELFLOW_TRACKING_URI=f"sqlite:///{root}/kf.db")
    with lab_server(root, env) as server:
        server.env = env
        yield server


def chart_cell(page):
    return page.locator(".jp-Notebook .jp-Cell").nth(CHART)


def test_chart_cut_off_by_a_restart_keeps_its_last_picture(lab, page):
    run_all(page, lab, "cut.ipynb")
    out = chart_cell(page)
    # live: the interactive chart shows; its static copy is kept up to date, hidden
    out.locator(".kernelflow-live .kf-live-plot svg.kf-chart").first.wait_for(
        state="visible", timeout=90_000)
    out.locator(".kf-fallback img.kf-static-chart").first.wait_for(state="attached",
                                                                  timeout=30_000)
    first = page.evaluate(COPY_POINTS)
    page.wait_for_function(f"() => ({COPY_POINTS})() > {first}", timeout=30_000)  # it follows
    assert out.locator(".kf-fallback").is_hidden()
    assert "RUNNING" in out.locator(".kernelflow-live .kf-live-head").inner_text()
    shot(page, "nb-lab-chart-restart-live")
    # restart the kernel while the run is drawing: nothing reads "model not found"
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.restartKernel()")
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert "model not found" not in page.evaluate(VISIBLE_TEXT)
    shot(page, "nb-lab-chart-restart-restarted")
    # save and reload: the new kernel has no model; the copy shows the last picture
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1500)
    saved = nbformat.read(lab.root / "cut.ipynb", as_version=4)
    copy, view = [o for o in saved.cells[CHART].outputs if o.output_type == "display_data"]
    assert "kf-static-chart" in copy.data["text/html"] and WIDGET in view.data
    page.reload(wait_until="domcontentloaded")
    picture = out.locator(".kf-fallback img.kf-static-chart")
    picture.wait_for(state="visible", timeout=60_000)
    wait_idle(page)
    page.wait_for_function(f"() => ({ALL_TEXT})().includes('model not found')", timeout=30_000)
    assert "model not found" not in page.evaluate(VISIBLE_TEXT)  # in the page, but hidden
    assert "Error displaying widget" not in out.inner_text()
    assert picture.evaluate("(img) => img.complete && img.naturalWidth > 300")
    head = out.locator(".kf-fallback .kf-live-head").inner_text()
    assert "cut-short" in head and "RUNNING" in head and "loss" in head
    assert page.evaluate(COPY_POINTS) > first  # the values up to the last redraw
    assert "drawn at" in out.locator(".kf-copy-note").inner_text()
    shot(page, "nb-lab-chart-restart-reloaded")


def test_chart_cut_off_opens_without_a_kernel(lab, page):
    saved = nbformat.read(lab.root / "cut.ipynb", as_version=4)  # saved by the test above
    assert len(saved.cells[CHART].outputs) >= 2, "run the restart test first"
    nbformat.write(without_kernel(saved), lab.root / "cut-nokernel.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", str(lab.root / "cut-nokernel.ipynb")],
                   check=True, capture_output=True, env=lab.env)  # as Lab signs what it saves
    open_notebook(page, lab, "cut-nokernel.ipynb", ".kf-fallback img.kf-static-chart")
    page.wait_for_function(f"() => /Loading widget|model not found/.test(({ALL_TEXT})())")
    seen = page.evaluate(VISIBLE_TEXT)
    assert "model not found" not in seen and "Loading widget" not in seen
    picture = chart_cell(page).locator(".kf-fallback img.kf-static-chart")
    assert picture.evaluate("(img) => img.complete && img.naturalWidth > 300")
    assert "cut-short" in chart_cell(page).locator(".kf-fallback .kf-live-head").inner_text()
    shot(page, "nb-lab-chart-restart-no-kernel")
