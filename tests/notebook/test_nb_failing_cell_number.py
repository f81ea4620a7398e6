"""Issue 16.6: a failing ``%%kf run`` cell's traceback names the cell by the number in its prompt,
as a plain cell's does (IPython 9 counts ``execution_count`` up before running a cell)."""

from __future__ import annotations

import re

import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.notebook

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_traceback_names_the_cell_by_its_prompt_number(kernel_env, tmp_path):
    from nbclient import NotebookClient

    nb = new_notebook(cells=[new_code_cell(c) for c in (
        "import kernelflow as kf\n%load_ext kernelflow",
        "%%kf run --name broken --no-live\nx = 1\n1 / 0",
        "1 / 0",
    )])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for cell in nb.cells[1:]:
        [error] = [o for o in cell.outputs if o.output_type == "error"]
        shown = ANSI.sub("", "\n".join(error.traceback))
        assert re.findall(r"^Cell In\[(\d+)\]", shown, re.M) == [str(cell.execution_count)], shown


def test_run_is_tagged_with_its_cells_prompt_number(kernel_env, tmp_path):
    from nbclient import NotebookClient

    import kernelflow as kf

    nb = new_notebook(cells=[new_code_cell(c) for c in (
        "import kernelflow as kf\n%load_ext kernelflow",
        "x = 1",
        "%%kf run --name counted --no-live\nkf.log_metric('m', 1.0)",
    )])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    [run] = kf.search_runs(output_format="list", search_all_experiments=True)
    assert run.data.tags["kernelflow.cell.execution_count"] == str(nb.cells[2].execution_count)
