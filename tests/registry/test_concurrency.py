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
    import os, sys, time, kernelflow
    kernelflow.set_tracking_uri(sys.argv[1])
    me, other = sys.argv[4], sys.argv[5]  # files that say "my first version is registered"
    start_at = float(sys.argv[3])
    while time.time() < start_at:  # both processes start registering together
        time.sleep(0.001)
    for i in range({n}):
        mv = kernelflow.register_model(sys.argv[2], "shared")
        print(mv.version, time.time(), flush=True)
        if i == 0:  # go on only once the other process has registered too: they overlap
            open(me, "w").close()
            deadline = time.time() + 60
            while not os.path.exists(other) and time.time() < deadline:
                time.sleep(0.001)
    """
).format(n=PER_PROCESS)


def test_two_processes_register_distinct_consecutive_versions(client, model_uri, tracking_uri,
                                                              tmp_path):
    local_path = kernelflow.models.api.local_model_dir(model_uri)  # no run lookup in the workers
    start_at = f"{time.time() + 2.5:.3f}"
    flags = [str(tmp_path / "first-0"), str(tmp_path / "first-1")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, tracking_uri, local_path, start_at, flags[i],
             flags[1 - i]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    lines = [[line.split() for line in out.splitlines()] for out, _ in outputs]
    numbers = [int(v) for mine in lines for v, _ in mine]
    assert sorted(numbers) == list(range(1, 2 * PER_PROCESS + 1))
    for mine in lines:  # each process sees its own versions increase
        versions = [int(v) for v, _ in mine]
        assert versions == sorted(versions) and len(versions) == PER_PROCESS
    # The two really ran at once: each registered its first version before either its last.
    firsts, lasts = [float(m[0][1]) for m in lines], [float(m[-1][1]) for m in lines]
    assert max(firsts) < min(lasts), (firsts, lasts)
    versions = client.search_model_versions("name = 'shared'")
    assert sorted(int(v.version) for v in versions) == list(range(1, 2 * PER_PROCESS + 1))
