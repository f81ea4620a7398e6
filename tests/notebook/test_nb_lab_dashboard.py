"""Issue 16.8 in a real JupyterLab: `%kf dashboard` opens on the active experiment's runs and the
page fits the cell's width (nothing on its right is cut off). Screenshot in test-artifacts/."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import nbformat
import pytest
from browser_helpers import shot
from nb_lab_helpers import free_port, lab_server, open_notebook, without_kernel
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A notebook that ran `%kf dashboard --keep` (a real Panel dashboard), signed, in a Lab."""
    import importlib.util

    from nbclient import NotebookClient

    if importlib.util.find_spec("panel") is None:
        pytest.skip("the dashboard extra is not installed")
    root = tmp_path_factory.mktemp("labdash")
    port = free_port()
    env = dict(os.environ, KERNELFLOW_TRACKING_URI=f"sqlite:///{root}/kf.db")
    env.pop("KERNELFLOW_DASHBOARD_API_ONLY", None)
    nb = new_notebook(cells=[new_code_cell(c) for c in (
        "import kernelflow as kf\n%load_ext kernelflow\nkf.set_experiment('other')\n"
        "with kf.start_run(run_name='elsewhere'): kf.log_metric('x', 1.0)\n"
        "kf.set_experiment('dash-exp')",
        "%%kf run --name dash-run --no-live\nkf.log_metric('loss', 0.5)\nkf.log_param('lr', '0.1')",
        f"%kf dashboard --port {port} --keep --height 560",
    )])
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(root)}})
    client.km = client.kernel_manager_class(kernel_name="python3")
    pid = None
    try:
        old = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
        text = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.output_type == "stream")
        pid = int(re.search(r"pid (\d+)", text).group(1))
        nbformat.write(without_kernel(nb), root / "dash.ipynb")
        subprocess.run([sys.executable, "-m", "jupyter", "trust", str(root / "dash.ipynb")],
                       check=True, capture_output=True, env=env)
        with lab_server(root, env) as server:
            server.dashboard_port = port
            yield server
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def test_dashboard_opens_on_the_experiment_and_fits_the_cell(lab, page):
    open_notebook(page, lab, "dash.ipynb", ".kf-dashboard-frame iframe")
    box = page.locator(".kf-dashboard-frame").first
    frame_el = box.locator("iframe")
    src = frame_el.get_attribute("src")
    assert re.search(rf":{lab.dashboard_port}/runs\?experiment_id=\d+$", src), src
    area = box.bounding_box()
    cell = page.locator(".jp-Notebook .jp-Cell").nth(2).bounding_box()
    assert area["x"] + area["width"] <= cell["x"] + cell["width"] + 1  # within the cell
    frame = frame_el.element_handle().content_frame()
    try:
        frame.get_by_text("dash-run").first.wait_for(state="visible", timeout=90_000)
    finally:
        shot(page, "nb-lab-dashboard")
    assert frame.get_by_text("elsewhere").count() == 0  # the active experiment's runs only
    delete = frame.get_by_role("button", name=re.compile("Delete")).first
    delete.wait_for(state="visible")
    # every control of the page, the pager and the column chooser included, lies inside the cell
    controls = frame.locator("button, input, select, .choices")
    boxes = [b for b in (controls.nth(i).bounding_box() for i in range(controls.count())) if b]
    assert len(boxes) > 5
    rightmost = max(b["x"] + b["width"] for b in boxes)
    assert rightmost <= area["x"] + area["width"] + 1, (rightmost, area)
    assert min(b["x"] for b in boxes) >= area["x"] - 1
