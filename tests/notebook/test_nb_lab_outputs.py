"""Issues 16.1-16.3 in a real JupyterLab: saved outputs without a kernel, interactive charts,
and both themes' contrast. Screenshots go to test-artifacts/."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from browser_helpers import shot
from nb_lab_helpers import CONTRAST_JS, DARK, LIGHT, lab_server, open_notebook, without_kernel
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

CELLS = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name lab-a\nimport math\nfor i in range(80):\n"
    "    kf.log_metrics({'loss': math.exp(-i / 20) + 0.05 * math.sin(i), 'acc': i / 80}, step=i)",
    "%%kf run --name lab-b\nfor i in range(40):\n    kf.log_metric('loss', 1 / (i + 1), step=i)",
    "%kf compare lab-a lab-b --metric loss",
    "%kf runs",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving two copies of an executed notebook: as saved, and signed (trusted)."""
    import os

    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("lab")
    env = dict(os.environ, KERNELFLOW_TRACKING_URI=f"sqlite:///{root}/kf.db")
    old = os.environ.get("KERNELFLOW_TRACKING_URI")
    os.environ["KERNELFLOW_TRACKING_URI"] = env["KERNELFLOW_TRACKING_URI"]
    try:
        nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(root)}}).execute()
    finally:
        if old is None:
            os.environ.pop("KERNELFLOW_TRACKING_URI", None)
        else:
            os.environ["KERNELFLOW_TRACKING_URI"] = old
    saved, trusted = without_kernel(nb), without_kernel(nb)
    saved.metadata["copy"] = "as saved"  # else it has the trusted copy's signature
    nbformat.write(saved, root / "saved.ipynb")
    nbformat.write(trusted, root / "trusted.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", str(root / "trusted.ipynb")],
                   check=True, capture_output=True, env=env)
    with lab_server(root, env) as server:
        yield server


def output_of(page, cell: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-OutputArea")


def test_saved_notebook_shows_final_charts_and_tables_without_a_kernel(lab, page):
    open_notebook(page, lab, "saved.ipynb", ".kf-charts")
    live = output_of(page, 1)
    pictures = live.locator(".kf-static img.kf-static-chart")
    assert pictures.count() == 2  # loss and acc, as saved; drawn (the browser decoded them)
    assert all(pictures.nth(i).evaluate("(img) => img.complete && img.naturalWidth > 300")
               for i in range(2))
    assert "FINISHED" in live.inner_text() and "lab-a" in live.inner_text()
    assert "Error displaying widget" not in live.inner_text()
    assert live.locator(".kf-interactive").count() == 0  # untrusted: no script ran
    compare = output_of(page, 3)
    assert compare.locator("img.kf-static-chart").count() == 1
    table = output_of(page, 4)
    assert "lab-a" in table.inner_text() and "lab-b" in table.inner_text()
    shot(page, "nb-lab-saved-without-kernel")


def test_trusted_chart_hovers_zooms_and_switches_axes(lab, page):
    open_notebook(page, lab, "trusted.ipynb", ".kf-interactive svg.kf-chart")
    live = output_of(page, 1)
    chart = live.locator(".kf-interactive svg.kf-chart").first
    live.scroll_into_view_if_needed()
    box = chart.bounding_box()
    grid = live.locator(".kf-interactive").bounding_box()
    assert box["width"] > 300 and box["x"] + box["width"] <= grid["x"] + grid["width"] + 1
    # hover: step and value
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tip = live.locator(".kf-tip").first
    tip.wait_for(state="visible")
    assert "step" in tip.inner_text() and "lab-a:" in tip.inner_text()
    ticks_before = chart.locator("g text").all_text_contents()
    # drag to zoom into the middle, double-click to reset
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    assert chart.locator("g text").all_text_contents() != ticks_before
    shot(page, "nb-lab-chart-zoomed")
    chart.dblclick(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    assert chart.locator("g text").all_text_contents() == ticks_before
    # log scale, smoothing and the x-axis choice; axes are labelled
    assert chart.locator(".kf-xlabel").text_content() == "step"
    live.locator("input.kf-log").check()
    assert "(log)" in chart.locator(".kf-ylabel").text_content()
    points = chart.locator("polyline.kf-series").get_attribute("points")
    live.locator("input.kf-smooth").fill("0.9")
    assert chart.locator("polyline.kf-series").get_attribute("points") != points
    live.locator("select.kf-x").select_option("relative")
    assert chart.locator(".kf-xlabel").text_content() == "relative time (s)"
    live.locator("select.kf-x").select_option("time")
    assert chart.locator(".kf-xlabel").text_content() == "wall time"
    shot(page, "nb-lab-chart-interactive")


@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_text_is_readable_in_both_themes(lab, page, theme):
    lab.set_theme(theme)
    try:
        open_notebook(page, lab, "trusted.ipynb", ".kf-interactive svg.kf-chart")
        page.wait_for_function(
            "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
            arg=theme == DARK)
        page.wait_for_timeout(300)
        strong = page.evaluate(CONTRAST_JS, ".kf-live-head, .kf-table th, .kf-table td, "
                               ".kf-chart text[font-weight='bold'], .kf-legend, .kf-toolbar label")
        weak = page.evaluate(CONTRAST_JS, ".kf-chart g text")  # tick labels, axis titles
        shot(page, f"nb-lab-theme-{'dark' if theme == DARK else 'light'}")
    finally:
        lab.set_theme(LIGHT)
    assert strong and weak
    assert min(r["ratio"] for r in strong) >= 4.5, sorted(strong, key=lambda r: r["ratio"])[:5]
    assert min(r["ratio"] for r in weak) >= 3.0, sorted(weak, key=lambda r: r["ratio"])[:5]


def test_trusted_saved_notebook_shows_the_runs_table_not_a_widget_error(lab, page):
    """Trusted, the widget output ranks first but has no kernel: the static copy shows instead."""
    open_notebook(page, lab, "trusted.ipynb", ".kf-runs-static")
    table = output_of(page, 4)
    page.wait_for_function("() => /Loading widget|model not found/.test("
                           "document.querySelector('.jp-Notebook').textContent)")
    seen = page.evaluate("() => document.querySelector('.jp-Notebook').innerText")
    assert "Error displaying widget" not in seen and "Loading widget" not in seen
    assert table.locator(".kf-runs-static").is_visible()
    assert "lab-a" in table.inner_text() and "lab-b" in table.inner_text()
    assert table.locator("input.kf-pick").count() == 0
    shot(page, "nb-lab-trusted-runs-table-without-kernel")
