"""Helpers for the serving tests: a registry with real models, ports, polling."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import types

MODELS_SOURCE = '''
import kernelflow

class Boom(kernelflow.PythonModel):
    """Raises when asked to predict a negative number."""

    def predict(self, context, model_input, params=None):
        if (model_input["x"] < 0).any():
            raise ValueError("boom: x must not be negative")
        return model_input["x"] * 2


class Broken(kernelflow.PythonModel):
    """Cannot be loaded: its weights are 'corrupt'."""

    def load_context(self, context):
        raise RuntimeError("weights are corrupt")

    def predict(self, context, model_input, params=None):
        return model_input


class Scaler(kernelflow.PythonModel):
    """Multiplies x by the 'factor' inference parameter (default 1), then sleeps."""

    def predict(self, context, model_input, params=None):
        import time

        time.sleep(float((params or {}).get("sleep", 0)))
        return model_input["x"] * float((params or {}).get("factor", 1))


class SlowScaler(Scaler):
    """A Scaler that takes 2.5 s to load (a hot-swap is seen in progress)."""

    def load_context(self, context):
        import time

        time.sleep(2.5)
'''


def model_classes() -> types.ModuleType:
    """Model classes in a module that is not importable, so cloudpickle ships them by value
    to Ray's worker processes."""
    module = types.ModuleType("kf_serving_test_models")
    exec(compile(MODELS_SOURCE, "kf_serving_test_models", "exec"), module.__dict__)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_registry(root) -> str:
    """A tracking file with: ``clf`` v1 and v2 (sklearn, columns a and b; @champion -> 1),
    ``boom`` v1 (predict raises on negative x), ``broken`` v1 (fails to load),
    ``scaler`` v1 (a 'factor' param). Returns its tracking URI."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import kernelflow as kf
    from kernelflow.models import infer_signature

    uri = f"sqlite:///{root / 'kernelflow.db'}"
    previous = kf.get_tracking_uri()
    kf.set_tracking_uri(uri)
    try:
        rng = np.random.default_rng(0)
        x = pd.DataFrame({"a": rng.random(60), "b": rng.random(60)})
        y = (x.a > x.b).astype(int)
        models = model_classes()
        kf.set_experiment("serving")
        for labels in (y, 1 - y):
            with kf.start_run():
                kf.log_model(LogisticRegression().fit(x, labels), "model", input_example=x[:3],
                             registered_model_name="clf")
        frame = pd.DataFrame({"x": [1.0, 2.0]})
        with kf.start_run():
            kf.log_model(models.Boom(), "boom", input_example=frame, registered_model_name="boom")
            kf.log_model(models.Broken(), "broken", signature=False,
                         registered_model_name="broken")
            sig = infer_signature(frame, frame["x"], params={"factor": 1.0, "sleep": 0.0})
            kf.log_model(models.Scaler(), "scaler", signature=sig, registered_model_name="scaler")
        kf.Client(uri).set_registered_model_alias("clf", "champion", 1)
        kf.flush()
    finally:
        kf.set_tracking_uri(previous)
    return uri


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def kernelflow_cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start ``python -m kernelflow ARGS`` in the background."""
    return subprocess.Popen([sys.executable, "-m", "kernelflow", *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def processes_under(path: str) -> list[int]:
    """Ids of the processes whose command line mentions ``path``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().split(") ")[-1][:1] == "Z"
        except OSError:
            continue
        if path in cmd and not zombie:
            found.append(int(pid))
    return found


def processes_started_with(path: str) -> list[int]:
    """Ids of the processes whose command line, environment or open files mention ``path``.

    Ray renames its processes (``ray::DashboardAgent``, ``ray::IDLE``), which overwrites
    their command line and environment; their open log files under the node's
    ``RAY_TMPDIR`` still name it.
    """
    found = set(processes_under(path))
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[-1][:1] == "Z":
                    continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                if path.encode() in f.read():
                    found.add(int(pid))
                    continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if path in os.readlink(f"/proc/{pid}/fd/{fd}"):
                        found.add(int(pid))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return sorted(found)


def kill_processes_under(path: str) -> None:
    for pid in processes_started_with(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
