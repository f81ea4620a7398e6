"""Issue 16.1 in a real JupyterLab: the runs table and the registry stay interactive while the
kernel lives, and after a kernel restart and a reload (or opened with no kernel) show their
last static copy, never "Error displaying widget: model not found". Screenshots in
test-artifacts/."""

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

CELLS = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name keep-a --no-live\nkf.log_metric('acc', 0.75)\n"
    "from sklearn.dummy import DummyClassifier\nm = DummyClassifier().fit([[0], [1]], [0, 1])",
    "%kf register m iris --alias champion",
    "%%kf run --name keep-b --no-live\nkf.log_metric('acc', 0.25)",
    "%kf runs",
    "%kf models",
]
RUNS, MODELS = 4, 5


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("labrestart")
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "tables.ipynb")
    env = dict(os.environ, KERNELFLOW_TRACKING_URI=f"sqlite:///{root}/kf.db")
    with lab_server(root, env) as server:
        server.env = env
        yield server


def cell(page, n: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(n)


def test_tables_survive_a_kernel_restart_and_a_reload(lab, page):
    run_all(page, lab, "tables.ipynb")
    runs, models = cell(page, RUNS), cell(page, MODELS)
    models.get_by_role("button", name="Set alias").wait_for(state="visible", timeout=120_000)
    # live: the widgets show, their static copies are hidden (no table twice)
    assert runs.locator("input.kf-pick").count() == 2
    assert runs.locator(".kf-fallback").is_hidden() and models.locator(".kf-fallback").is_hidden()
    assert runs.locator(".kf-runs-static").count() == 1  # the copy is there, hidden
    # use them: filter the table, move an alias; the copies follow
    box = runs.get_by_placeholder("metrics.acc > 0.9", exact=False)
    box.fill("metrics.acc > 0.5")
    box.press("Enter")
    page.wait_for_function("(n) => document.querySelectorAll('.jp-Notebook .jp-Cell')[n]"
                           ".querySelectorAll('input.kf-pick').length === 1", arg=RUNS)
    runs.locator("input.kf-pick").check()
    runs.get_by_role("button", name="Compare selected").click()
    runs.locator(".kf-compare .kf-interactive svg.kf-chart").wait_for(state="visible")
    models.get_by_placeholder("alias, e.g. champion").fill("prod")
    models.get_by_role("button", name="Set alias").click()
    models.get_by_text("iris: @prod → version 1").wait_for(state="visible")
    shot(page, "nb-lab-restart-live")
    # restart the kernel: nothing reads "model not found"
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.restartKernel()")
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert "model not found" not in page.evaluate(VISIBLE_TEXT)
    shot(page, "nb-lab-restart-restarted")
    # save and reload: the new kernel has no models; the copies show the last state
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1500)
    page.reload(wait_until="domcontentloaded")
    runs.locator(".kf-runs-static").wait_for(state="visible", timeout=60_000)
    models.locator(".kf-registry-static").wait_for(state="visible", timeout=30_000)
    wait_idle(page)
    page.wait_for_function(f"() => ({ALL_TEXT})().includes('model not found')", timeout=30_000)
    assert "model not found" not in page.evaluate(VISIBLE_TEXT)  # in the page, but hidden
    assert "Error displaying widget" not in runs.inner_text() + models.inner_text()
    table = runs.locator(".kf-runs-static").inner_text()
    assert "keep-a" in table and "0.75" in table and "keep-b" not in table  # as filtered
    assert "1 run · filter metrics.acc > 0.5" in table
    registry = models.locator(".kf-registry-static").inner_text()
    assert "@champion" in registry and "@prod" in registry and "versions of iris" in registry
    assert runs.locator("input.kf-pick").count() == 0
    picture = runs.locator(".kf-compare-static img.kf-static-chart")  # the last comparison
    assert picture.is_visible() and picture.evaluate("(img) => img.naturalWidth > 300")
    shot(page, "nb-lab-restart-reloaded")


def test_saved_tables_open_without_a_kernel(lab, page):
    saved = nbformat.read(lab.root / "tables.ipynb", as_version=4)  # saved by the test above
    assert len(saved.cells[RUNS].outputs) == 2, "run test_tables_survive_a_kernel_restart first"
    nbformat.write(without_kernel(saved), lab.root / "nokernel.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", str(lab.root / "nokernel.ipynb")],
                   check=True, capture_output=True, env=lab.env)  # as Lab signs what it saves
    open_notebook(page, lab, "nokernel.ipynb", ".kf-registry-static")
    # with no kernel the widget renderer waits ("Loading widget..."), hidden like an error
    page.wait_for_function(f"() => /Loading widget|model not found/.test(({ALL_TEXT})())")
    seen = page.evaluate(VISIBLE_TEXT)
    assert "model not found" not in seen and "Loading widget" not in seen
    table = cell(page, RUNS).locator(".kf-runs-static")
    assert table.is_visible() and "keep-a" in table.inner_text() and "0.75" in table.inner_text()
    assert "@prod" in cell(page, MODELS).locator(".kf-registry-static").inner_text()
    shot(page, "nb-lab-restart-no-kernel")
