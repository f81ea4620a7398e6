"""Runs in a real kernel: shutdown drains the writer; start_run captures its source."""

from __future__ import annotations

import pytest
from jupyter_client.manager import start_new_kernel

import kernelflow as kf

pytestmark = pytest.mark.notebook


def _execute(kc, code: str) -> dict:
    reply = kc.execute_interactive(code, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply


def test_graceful_kernel_shutdown_flushes_queued_points(kernel_env, tmp_path):
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        # a long writer interval: nothing reaches the file before shutdown on its own
        _execute(kc, "import kernelflow as kf\n"
                     "run = kf.start_run(run_name='in-kernel')\n"
                     "kf.Client()._writer.interval = 3600\n"
                     "for i in range(20_000):\n"
                     "    kf.log_metric('loss', 1 / (i + 1), step=i)\n"
                     "open('run_id.txt', 'w').write(run.info.run_id)")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)  # what Jupyter does on "Shut Down Kernel"
    run_id = (tmp_path / "run_id.txt").read_text()
    assert len(kf.get_metric_history(run_id, "loss")) == 20_000


def test_start_run_in_a_kernel_captures_the_cell(kernel_env, tmp_path):
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        _execute(kc, "import kernelflow as kf")
        _execute(kc, "with kf.start_run(run_name='plain') as run:\n"
                     "    kf.log_metric('m', 1.0)\n"
                     "open('run_id.txt', 'w').write(run.info.run_id)")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    run_id = (tmp_path / "run_id.txt").read_text()
    run = kf.get_run(run_id)
    assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert "kernelflow.python.version" in run.data.tags
    names = {f.path for f in kf.Client().list_artifacts(run_id, "code")}
    assert "code/cell.py" in names
    cell = open(kf.Client().download_artifacts(run_id, "code/cell.py")).read()
    assert "start_run(run_name='plain')" in cell
