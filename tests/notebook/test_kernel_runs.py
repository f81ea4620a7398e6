"""Kernel shutdown drains the writer: points logged but never flushed are on disk."""

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
