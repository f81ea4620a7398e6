"""Issue 16.6: a failing `%%kf run` cell reads like a plain cell's error; FAILED is coloured."""

from __future__ import annotations

import re

import pytest
from nbformat.v4 import new_code_cell, new_notebook

import kernelflow as kf

pytestmark = pytest.mark.notebook

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def executed(kernel_env, tmp_path):
    from nbclient import NotebookClient

    nb = new_notebook(cells=[new_code_cell(c) for c in (
        "import kernelflow as kf\n%load_ext kernelflow",
        "def step(i):\n    return 1 / (3 - i)",
        "%%kf run --name broken\nfor i in range(5):\n    kf.log_metric('loss', step(i), step=i)",
        "for i in range(5):\n    step(i)",
    )])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def traceback_of(cell):
    [error] = [o for o in cell.outputs if o.output_type == "error"]
    return ANSI.sub("", "\n".join(error.traceback)), error


def test_traceback_shows_only_the_users_frames(executed):
    shown, error = traceback_of(executed.cells[2])
    assert error.ename == "ZeroDivisionError"
    for internal in ("run_cell_magic", "get_ipython()", "interactiveshell", "tracking.py",
                     "magics/__init__", "execute_cell"):
        assert internal not in shown, shown
    frames = re.findall(r"^Cell In\[\d+\], line (\d+)", shown, re.M)
    assert frames and frames[0] == "3", shown  # the cell's own line number (the magic is line 1)
    assert "kf.log_metric('loss', step(i), step=i)" in shown and "return 1 / (3 - i)" in shown


def test_traceback_has_the_same_frames_as_a_plain_cell(executed):
    magic, _ = traceback_of(executed.cells[2])
    plain, _ = traceback_of(executed.cells[3])
    assert len(re.findall(r"^Cell In\[", magic, re.M)) == len(re.findall(r"^Cell In\[", plain, re.M))


def test_failed_run_header_is_coloured(executed):
    outputs = [o for o in executed.cells[2].outputs if o.output_type == "display_data"]
    chart, emptied = outputs  # the final chart, and the live widget's output left empty
    assert emptied.data == {"text/plain": ""}
    page = chart.data["text/html"]
    assert re.search(r'<span class="kf-status" style="color:var\(--jp-error-color1[^"]*"'
                     r'[^>]*>FAILED</span>', page), page[:2000]
    run = kf.search_runs(output_format="list", search_all_experiments=True)[0]
    assert run.info.status == "FAILED" and run.info.run_name == "broken"
