"""Issue 16.1: a saved notebook keeps kernelflow's results without a kernel.

A real kernel (nbclient) runs the cells, the notebook is written to disk and read
back: every kernelflow output must hold its final state as text/html (and the
live chart an SVG picture), and no live chart may be left as a bare widget. The runs
table and the registry stay widgets, each after a static copy that follows their changes.
A kernel killed while a live chart draws leaves the chart's last static copy.
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
    "from sklearn.linear_model import LinearRegression\n"
    "m = LinearRegression().fit([[0], [1]], [0, 1])\n%kf register m iris --alias champion",
    "%kf models",
    "table = kf.widgets.RunsTable()\ntable",
    "reg = kf.widgets.RegistryBrowser('iris')\nreg",
    "table.filter_box.value = 'metrics.loss > 0.05'\nmoved = reg.set_alias('prod', '1')",
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


def final_chart(cell):
    """A finished live chart's outputs: the final chart, then the emptied widget output."""
    out, emptied = displays(cell)
    assert emptied.data == {"text/plain": ""}  # the widget's output, hidden by the chart's CSS
    uid = out.data["text/html"].split("kf-fb-", 1)[1][:12]
    assert f" + .jp-OutputArea-child:not(:has(.kf-live-{uid})){{display:none}}" in out.data[
        "text/html"]
    return out


def test_live_chart_is_replaced_by_its_final_static_state(saved):
    out = final_chart(saved.cells[1])
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
    out = final_chart(saved.cells[1])
    page = out.data["text/html"]
    assert '<script type="application/json" class="kf-data">' in page
    assert "function kfCharts" in page and '"key":"loss"' in page


def test_compare_output_is_static_and_interactive(saved):
    [out] = displays(saved.cells[3])
    assert WIDGET not in out.data
    page = out.data["text/html"]
    assert page.count('class="kf-series"') == 2 and "saved-b" in page
    assert "image/svg+xml" in out.data


def copy_and_widget(saved, n: int):
    """A widget cell's two outputs: the static copy, then the widget (nothing else to show)."""
    copy, view = displays(saved.cells[n])
    assert WIDGET not in copy.data and copy.data["text/html"].startswith("<div class='kf-fallback")
    assert set(view.data) == {WIDGET, "text/plain"} and view.data["text/plain"] == ""
    return copy, view


def dom_classes(saved, view) -> list[str]:
    state = saved.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return state[view.data[WIDGET]["model_id"]]["state"]["_dom_classes"]


def test_runs_table_is_a_static_copy_then_the_widget(saved):
    copy, view = copy_and_widget(saved, 4)
    page = copy.data["text/html"]
    assert "saved-a" in page and "saved-b" in page and "<table" in page and "2 runs" in page
    assert ">0.02<" in page and ">0.1<" in page  # the final losses
    assert "kf-pick" not in page  # no dead checkboxes
    assert "saved-a" in copy.data["text/plain"]
    # the copy's CSS hides it while the view (marked with the copy's id) shows, else the view
    uid = page.split("kf-fb-", 1)[1][:12]
    assert f"kf-live-{uid}" in dom_classes(saved, view)
    assert f":has(+ .jp-OutputArea-child .kf-live-{uid}){{display:none}}" in page
    assert f":not(:has(.kf-live-{uid})){{display:none}}" in page


def test_registry_is_a_static_copy_then_the_widget(saved):
    copy, view = copy_and_widget(saved, 6)
    page = copy.data["text/html"]
    assert "<b>iris</b>" in page and "@champion → v1" in page and "versions of <b>iris</b>" in page
    assert "<code>@champion</code>" in page and "None" not in page
    uid = page.split("kf-fb-", 1)[1][:12]
    assert f"kf-live-{uid}" in dom_classes(saved, view)


def test_static_copies_follow_later_changes(saved):
    table, _ = copy_and_widget(saved, 7)
    page = table.data["text/html"]
    assert "saved-b" in page and "saved-a" not in page  # filtered in a later cell
    assert "1 run · filter <code>metrics.loss &gt; 0.05</code>" in page
    registry, _ = copy_and_widget(saved, 8)
    assert "<code>@prod</code>" in registry.data["text/html"]  # the alias moved later
    assert saved.cells[9].outputs == []  # the updates went to their cells


def test_a_kernel_killed_mid_run_leaves_the_charts_last_picture(tmp_path, monkeypatch):
    """nbclient runs a long %%kf run cell, the kernel is SIGKILLed while the chart draws; the
    saved cell holds the static copy as last drawn (a picture, the values so far), not only a
    widget that would read "model not found"."""
    import asyncio
    import signal
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    import kernelflow as kf

    uri = f"sqlite:///{tmp_path}/kf.db"
    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", uri)
    nb = new_notebook(cells=[new_code_cell(CELLS[0]), new_code_cell(
        "%%kf run --name cut\nimport time\nfor i in range(100_000):\n"
        "    kf.log_metric('loss', 1 / (i + 1), step=i)\n    time.sleep(0.01)")])
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})

    def picture_drawn() -> bool:
        shown = displays(nb.cells[1])
        return bool(shown) and "kf-static-chart" in shown[0].data.get("text/html", "")

    async def run_and_kill() -> None:
        async with client.async_setup_kernel():
            await client.async_execute_cell(nb.cells[0], 0)
            cell = asyncio.ensure_future(client.async_execute_cell(nb.cells[1], 1))
            deadline = time.monotonic() + 90
            while not picture_drawn() and not cell.done() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not cell.done(), "the run ended before the chart drew its copy"
            await asyncio.sleep(0.5)  # a few more points: the kernel dies mid-run, not at a copy
            await client.km.signal_kernel(signal.SIGKILL)
            with pytest.raises(DeadKernelError):
                await cell

    asyncio.run(run_and_kill())
    nbformat.write(nb, tmp_path / "cut.ipynb")
    saved = nbformat.read(tmp_path / "cut.ipynb", as_version=4)
    copy, view = displays(saved.cells[1])
    assert set(view.data) == {WIDGET, "text/plain"} and view.data["text/plain"] == ""
    page = copy.data["text/html"]
    uid = page.split("kf-fb-", 1)[1][:12]  # the copy's CSS shows it where the widget can't show
    assert f" + .jp-OutputArea-child:not(:has(.kf-live-{uid})){{display:none}}" in page
    assert "<img class='kf-static-chart'" in page and "cut" in page and "RUNNING" in page
    assert "kf-final" not in page and "drawn at" in page
    drawn = int(page.split('data-points="', 1)[1].split('"', 1)[0])
    client = kf.Client(uri)
    [run] = client.search_runs(["0"])
    assert run.info.status == "RUNNING"  # the kernel died: nobody ended it
    logged = len(client.get_metric_history(run.info.run_id, "loss"))
    assert 0 < drawn <= logged < 100_000  # the values up to the copy's last redraw
    assert copy.data["text/plain"].startswith("kernelflow run 'cut'")
