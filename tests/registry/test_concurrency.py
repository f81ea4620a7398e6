"""Two processes registering versions of one model at once get distinct consecutive numbers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import kernelflow

PER_PROCESS = 15

WORKER = textwrap.dedent(
    """
    import sys, time, kernelflow
    kernelflow.set_tracking_uri(sys.argv[1])
    start_at = float(sys.argv[3])
    while time.time() < start_at:  # both processes start registering together
        time.sleep(0.001)
    for _ in range({n}):
        mv = kernelflow.register_model(sys.argv[2], "shared")
        print(mv.version, flush=True)
    """
).format(n=PER_PROCESS)


def test_two_processes_register_distinct_consecutive_versions(client, model_uri, tracking_uri):
    local_path = kernelflow.models.api.local_model_dir(model_uri)  # no run lookup in the workers
    start_at = f"{time.time() + 2.5:.3f}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, tracking_uri, local_path, start_at],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    numbers = [int(v) for out, _ in outputs for v in out.split()]
    assert sorted(numbers) == list(range(1, 2 * PER_PROCESS + 1))
    for out, _ in outputs:  # each process sees its own versions increase
        mine = [int(v) for v in out.split()]
        assert mine == sorted(mine) and len(mine) == PER_PROCESS
    versions = client.search_model_versions("name = 'shared'")
    assert sorted(int(v.version) for v in versions) == list(range(1, 2 * PER_PROCESS + 1))
