"""Issue 16.1: a saved notebook keeps kernelflow's results without a kernel.

A real kernel (nbclient) runs the cells, the notebook is written to disk and read
back: every kernelflow output must hold its final state as text/html (and the
live chart an SVG picture), and no live chart may be left as a bare widget.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.notebook

WIDGET = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "import kernelflow as kf\n%load_ext kernelflow",
    "%%kf run --name saved-a\nfor i in range(50):\n    kf.log_metric('loss', 1 / (i + 1), step=i)",
    "%%kf run --name saved-b\nfor i in range(20):\n    kf.log_metric('loss', 2 / (i + 1), step=i)",
    "%kf compare saved-a saved-b",
    "%kf runs",
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The executed notebook as written to disk and read back (one kernel for the module)."""
    import os

    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("saved")
    env_uri = f"sqlite:///{folder}/kf.db"
    old = os.environ.get("KERNELFLOW_TRACKING_URI")
    os.environ["KERNELFLOW_TRACKING_URI"] = env_uri
    try:
        nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if old is None:
            os.environ.pop("KERNELFLOW_TRACKING_URI", None)
        else:
            os.environ["KERNELFLOW_TRACKING_URI"] = old
    path = folder / "saved.ipynb"
    nbformat.write(nb, path)
    return nbformat.read(path, as_version=4)


def displays(cell):
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def test_live_chart_is_replaced_by_its_final_static_state(saved):
    [out] = displays(saved.cells[1])
    assert WIDGET not in out.data  # nothing that needs a kernel to show
    page = out.data["text/html"]
    assert "kf-final" in page and "saved-a" in page and "FINISHED" in page
    assert "loss 0.02" in page  # the last value, 1/50
    assert 'data-points="50"' in page  # the static SVG drawn with every point
    assert "<svg" in page and 'class="kf-series"' in page
    picture = out.data["image/svg+xml"]
    assert picture.startswith("<svg") and "polyline" in picture and "saved-a" in picture
    assert "saved-a" in out.data["text/plain"] and "loss=0.02" in out.data["text/plain"]


def test_final_chart_carries_interactive_data_and_script(saved):
    [out] = displays(saved.cells[1])
    page = out.data["text/html"]
    assert '<script type="application/json" class="kf-data">' in page
    assert "function kfCharts" in page and '"key":"loss"' in page


def test_compare_output_is_static_and_interactive(saved):
    [out] = displays(saved.cells[3])
    assert WIDGET not in out.data
    page = out.data["text/html"]
    assert page.count('class="kf-series"') == 2 and "saved-b" in page
    assert "image/svg+xml" in out.data


def test_runs_table_carries_an_html_table(saved):
    [out] = displays(saved.cells[4])
    table = out.data["text/html"]
    assert "saved-a" in table and "saved-b" in table and "<table" in table
