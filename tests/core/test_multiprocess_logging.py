"""Several processes writing one file; hard kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import kernelflow as kf

pytestmark = pytest.mark.slow


def _spawn(code: str, uri: str) -> subprocess.Popen:
    env = {**os.environ, "KERNELFLOW_TRACKING_URI": uri}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_processes_log_into_one_file(tracking_uri):
    with kf.start_run() as shared:
        pass
    code = """
        import sys, kernelflow as kf
        i, shared = int(sys.argv[1]), sys.argv[2]
        with kf.start_run(run_name=f"worker-{i}") as run:
            kf.log_param("worker", i)
            for step in range(20_000):
                kf.log_metric("loss", 1.0 / (step + 1), step=step)
                if step % 500 == 0:
                    kf.log_metric(f"shared-{i}", step, step=step, run_id=shared)
        print(run.info.run_id)
    """
    procs = []
    for i in range(4):
        env = {**os.environ, "KERNELFLOW_TRACKING_URI": tracking_uri}
        procs.append(subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), str(i), shared.info.run_id],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        run_id = out.strip()
        assert len(kf.get_metric_history(run_id, "loss")) == 20_000
        assert kf.get_run(run_id).info.status == "FINISHED"
    shared_metrics = kf.get_run(shared.info.run_id).data.metrics
    assert sorted(shared_metrics) == [f"shared-{i}" for i in range(4)]
    for i in range(4):
        assert len(kf.get_metric_history(shared.info.run_id, f"shared-{i}")) == 40


def test_sigkill_right_after_end_run_loses_nothing(tracking_uri):
    proc = _spawn(
        """
        import time, kernelflow as kf
        with kf.start_run() as run:
            kf.log_params({"a": 1, "b": 2})
            for i in range(50_000):
                kf.log_metric("m", i, step=i)
        print(run.info.run_id, flush=True)
        time.sleep(60)
        """,
        tracking_uri,
    )
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run = kf.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"a": "1", "b": "2"}
    assert len(kf.get_metric_history(run_id, "m")) == 50_000


def test_sigkill_mid_run_loses_at_most_the_window(tracking_uri):
    proc = _spawn(
        """
        import time, kernelflow as kf
        run = kf.start_run()
        print(run.info.run_id, flush=True)
        i = 0
        while True:
            kf.log_metric("m", i, step=i)
            i += 1
            if i % 5000 == 0:
                print(i, flush=True)
                time.sleep(0.001)
        """,
        tracking_uri,
    )
    run_id = proc.stdout.readline().strip()
    reported = 0
    while reported < 50_000:
        reported = int(proc.stdout.readline())
    # Everything logged more than the documented window (0.1 s) before the kill is on disk.
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run = kf.get_run(run_id)  # the file opens and the run is readable
    assert run.info.status == "RUNNING"
    hist = kf.get_metric_history(run_id, "m")
    assert len(hist) >= reported
    assert list(hist.steps[:reported]) == list(range(reported))
