"""``kernelflow serve`` and ``kernelflow deployments`` as a user runs them, in subprocesses.

Each Ray started here lives under its own RAY_TMPDIR, so the test can check that no
process of it is left once the command has stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest
import requests
from serving_helpers import (
    free_port,
    kill_processes_under,
    make_registry,
    processes_started_with,
    processes_under,
    wait_for,
)

import kernelflow


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return make_registry(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def ray_tmp():
    """A short private RAY_TMPDIR (Ray's socket paths must stay under 107 characters)."""
    path = tempfile.mkdtemp(prefix="kfr", dir="/tmp")
    yield path
    kill_processes_under(path)
    shutil.rmtree(path, ignore_errors=True)


def cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "kernelflow", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_help_lists_the_mlflow_flags(registry):
    out = cli("serve", "--help").stdout
    for flag in ("--model-uri", "-m", "-p", "--port", "-h", "--host", "-t", "-w", "--workers",
                 "--address", "--autoscale", "--max-batch-size", "--list", "--stop",
                 "--multiplex", "--max-models-per-replica"):
        assert flag in out
    assert "serve" in cli("--help").stdout and "deployments" in cli("--help").stdout


def test_an_unknown_model_is_a_clear_error_and_starts_nothing(registry, ray_tmp):
    done = cli("serve", "models:/clf@nope", "--store", registry, env={"RAY_TMPDIR": ray_tmp})
    assert done.returncode == 2
    assert "aliases: @champion -> 1" in done.stderr and "Traceback" not in done.stderr
    assert not os.path.exists(os.path.join(ray_tmp, "ray"))
    done = cli("serve", "--store", registry)
    assert done.returncode == 2 and "Give a model to serve" in done.stderr


def test_bad_multiplex_options_are_clear_errors_and_start_nothing(registry, ray_tmp):
    env = {"RAY_TMPDIR": ray_tmp}
    done = cli("serve", "clf/1", "boom/1", "--max-models-per-replica", "0", "--store", registry,
               env=env)
    assert done.returncode == 2 and "max_models_per_replica must be" in done.stderr
    done = cli("serve", "clf/1", "-p", "70000", "--store", registry, env=env)
    assert done.returncode == 2 and "port must be 1-65535" in done.stderr
    assert not os.path.exists(os.path.join(ray_tmp, "ray"))


def test_list_and_deployments_read_the_store(registry):
    kernelflow.Client(registry).record_deployment("old", "models:/clf/1", status="STOPPED",
                                                  model_version=1, url="http://h:1")
    out = cli("deployments", "--store", registry).stdout
    assert "old" in out and "STOPPED" in out and "models:/clf/1" in out
    assert "old" in cli("serve", "--list", "--store", registry).stdout
    rows = __import__("json").loads(cli("deployments", "--json", "--store", registry).stdout)
    assert any(r["name"] == "old" and r["model_version"] == "1" for r in rows)


@pytest.mark.ray
@pytest.mark.slow
def test_serve_answers_then_stop_leaves_no_ray_process(registry, ray_tmp):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernelflow", "serve", "-m", "models:/clf@champion", "-p",
         str(port), "-h", "127.0.0.1", "-w", "1", "--store", registry, "--name", "cli-clf"],
        env={**os.environ, "RAY_TMPDIR": ray_tmp}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "press Ctrl+C" in line:
                break
        assert any(f"at http://127.0.0.1:{port}/invocations" in ln for ln in lines), lines
        resp = requests.post(f"http://127.0.0.1:{port}/invocations",
                             json={"inputs": {"a": [0.1], "b": [0.9]}}, timeout=30)
        assert resp.status_code == 200 and resp.headers["X-Kernelflow-Model-Version"] == "1"
        assert processes_under(ray_tmp)
        dep = kernelflow.Client(registry).get_deployment("cli-clf")
        assert (dep.status, dep.pid) == ("RUNNING", proc.pid)
        stopped = cli("serve", "--stop", "cli-clf", "--store", registry)
        assert stopped.returncode == 0, stopped.stderr
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert kernelflow.Client(registry).get_deployment("cli-clf").status == "STOPPED"
    wait_for(lambda: not processes_started_with(ray_tmp), timeout=30)


@pytest.mark.ray
@pytest.mark.slow
def test_interpreter_exit_stops_the_deployment_and_leaves_no_ray_process(registry, ray_tmp):
    """A script calls serve(), gets an answer and simply ends: atexit cleans up."""
    port = free_port()
    script = (
        "import requests\n"
        "from kernelflow_serving import serve\n"
        f"h = serve('models:/clf/1', name='script-clf', port={port}, "
        f"tracking_uri={registry!r}, replica_cpus=0.1)\n"
        "r = requests.post(h.url + '/invocations', json={'inputs': {'a': [0.1], 'b': [0.9]}},"
        " timeout=60)\n"
        "print('answered', r.status_code, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "RAY_TMPDIR": ray_tmp})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "answered 200" in done.stdout
    dep = kernelflow.Client(registry).get_deployment("script-clf")
    assert dep.status == "STOPPED"
    wait_for(lambda: not processes_started_with(ray_tmp), timeout=30)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/ping", timeout=5)


@pytest.mark.ray
@pytest.mark.slow
def test_a_model_that_fails_to_load_exits_non_zero_and_leaves_nothing(registry, ray_tmp):
    done = cli("serve", "models:/broken/1", "-p", str(free_port()), "--store", registry,
               env={"RAY_TMPDIR": ray_tmp}, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "weights are corrupt" in done.stderr
    dep = kernelflow.Client(registry).get_deployment("broken")
    assert dep.status == "FAILED" and "weights are corrupt" in dep.last_error
    wait_for(lambda: not processes_started_with(ray_tmp), timeout=30)


@pytest.mark.ray
@pytest.mark.slow
def test_serve_onto_a_separately_started_ray_cluster(registry, ray_tmp):
    gcs_port, http_port = free_port(), free_port()
    # Ray keeps one auth token per user in ~/.ray/auth_token, which any other local Ray start
    # rewrites; this loopback-only cluster goes without, so a concurrent start cannot lock us out.
    env = {**os.environ, "RAY_TMPDIR": ray_tmp, "RAY_AUTH_MODE": "disabled"}
    for _ in range(3):  # a loaded machine can make Ray miss its fixed 30 s startup deadline
        started = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ray"), "start", "--head",
             f"--port={gcs_port}", "--num-cpus=2", "--include-dashboard=false",
             "--disable-usage-stats"], env=env, capture_output=True, text=True, timeout=180)
        if started.returncode == 0 or "timed out during startup" not in started.stderr:
            break
        kill_processes_under(ray_tmp)
    assert started.returncode == 0, started.stdout + started.stderr
    head = set(processes_under(ray_tmp))
    address = f"127.0.0.1:{gcs_port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernelflow", "serve", "models:/clf/2", "--address", address,
         "-p", str(http_port), "--store", registry, "--name", "on-cluster"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "press Ctrl+C" in line:
                break
        assert "press Ctrl+C" in lines[-1], "".join(lines[-20:])
        resp = requests.post(f"http://127.0.0.1:{http_port}/invocations",
                             json={"inputs": {"a": [0.1], "b": [0.9]}}, timeout=30)
        assert resp.status_code == 200 and resp.headers["X-Kernelflow-Model-Version"] == "2"
        assert kernelflow.Client(registry).get_deployment("on-cluster").ray_address == address
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert kernelflow.Client(registry).get_deployment("on-cluster").status == "STOPPED"
    assert head <= set(processes_under(ray_tmp))  # the cluster itself was left running
    kill_processes_under(ray_tmp)
    wait_for(lambda: not processes_started_with(ray_tmp), timeout=30)


def test_stop_never_signals_a_notebook_or_script(registry):
    import json
    import socket

    client = kernelflow.Client(registry)
    client.record_deployment("in-notebook", "models:/clf/1", status="RUNNING", pid=os.getpid(),
                             host=socket.gethostname(), config=json.dumps({"owner": "python"}))
    done = cli("serve", "--stop", "in-notebook", "--store", registry)
    assert done.returncode == 2 and "will not signal" in done.stderr
    assert client.get_deployment("in-notebook").status == "RUNNING"
    client.record_deployment("in-notebook", status="STOPPED")
    done = cli("serve", "--stop", "in-notebook", "--store", registry)
    assert done.returncode == 0 and "already STOPPED" in done.stdout
    done = cli("serve", "--stop", "nothing-here", "--store", registry)
    assert done.returncode == 2 and "No deployment named 'nothing-here'" in done.stderr
