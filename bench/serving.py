"""Serving benchmark: ``mlflow models serve`` vs ``kernelflow serve`` vs a plain Ray Serve app.

The same scikit-learn model (logistic regression on 4 float columns), one run, side by
side. For each server:

- the time from starting the command to the first 200 on ``/invocations``;
- p50 / p99 latency at 1 connection (one row per request, ``dataframe_split``);
- requests/s at 8 and 32 concurrent keep-alive connections;
- the resident memory of the whole process tree (Ray's processes included).

Targets (from the serving issue): requests/s >= MLflow's at 8 connections and >= 2x at 32;
p50 at 1 connection <= 1.5x MLflow's; first 200 <= 8 s. The ratios are printed.
The load generator is Python threads on the same 2 cores, the same for every server.

Usage::

    python bench/serving.py [--seconds 5] [--requests 300] [--only mlflow,kernelflow,ray]
                            [--phases] [--first-200-only]

``--phases`` prints where kernelflow's time to the first 200 goes (marks written by the
CLI and the replica, see ``kernelflow_serving.phases``); ``--first-200-only`` measures
only the start (repeat it with ``--repeat N`` for a median).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import psutil

PY = sys.executable
ROW = {"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[0.1, 0.5, 0.3, 0.9]]}}
BODY = json.dumps(ROW).encode()

PLAIN_RAY = textwrap.dedent('''
    import signal, sys, threading, cloudpickle, pandas as pd, ray
    from ray import serve
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    @serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=64)
    class Plain:
        def __init__(self, path):
            with open(path, "rb") as f:
                self.model = cloudpickle.load(f)

        async def __call__(self, request: Request):
            split = (await request.json())["dataframe_split"]
            frame = pd.DataFrame(split["data"], columns=split["columns"])
            return JSONResponse({"predictions": self.model.predict(frame).tolist()})

    ray.init(include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": int(sys.argv[2])})
    serve.run(Plain.bind(sys.argv[1]), route_prefix="/invocations")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()
    serve.shutdown()
    ray.shutdown()
''')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model(root: str) -> tuple[str, str, str]:
    """Register the model in a kernelflow store; return (tracking URI, model dir, pickle)."""
    import cloudpickle
    from sklearn.linear_model import LogisticRegression

    import kernelflow as kf

    uri = f"sqlite:///{root}/kernelflow.db"
    kf.set_tracking_uri(uri)
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.random((500, 4)), columns=["f0", "f1", "f2", "f3"])
    y = (x.f0 + x.f1 > x.f2 + x.f3).astype(int)
    model = LogisticRegression().fit(x, y)
    with kf.start_run():
        kf.log_model(model, "model", input_example=x[:2], registered_model_name="bench")
    kf.flush()
    model_dir = kf.Client(uri).get_model_version_download_uri("bench", "1")
    pickle_path = os.path.join(root, "model.pkl")
    with open(pickle_path, "wb") as f:
        cloudpickle.dump(model, f)
    return uri, model_dir, pickle_path


def post(conn: http.client.HTTPConnection) -> int:
    conn.request("POST", "/invocations", body=BODY, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def wait_first_200(port: int, proc: subprocess.Popen, start: float, limit: float = 300) -> float:
    while time.monotonic() - start < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if post(conn) == 200:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no 200 within the limit")


def latency(port: int, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.sock = None
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert post(conn) == 200
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def throughput(port: int, connections: int, seconds: float) -> float:
    count = [0] * connections
    errors = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            try:
                if post(conn) == 200:
                    count[i] += 1
                else:
                    errors[i] += 1
            except OSError:
                errors[i] += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(errors):
        print(f"    ({sum(errors)} failed requests at {connections} connections)")
    return sum(count) / (time.monotonic() - start)


def tree_rss_mib(proc: subprocess.Popen, ray_tmp: str | None) -> float:
    pids = set()
    try:
        root = psutil.Process(proc.pid)
        pids = {root.pid} | {c.pid for c in root.children(recursive=True)}
    except psutil.NoSuchProcess:
        pass
    if ray_tmp:  # Ray's daemons are started detached from the driver
        for p in psutil.process_iter(["pid", "cmdline"]):
            if ray_tmp in " ".join(p.info["cmdline"] or []):
                pids.add(p.info["pid"])
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def stop(proc: subprocess.Popen, ray_tmp: str | None) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    if ray_tmp:
        for p in psutil.process_iter(["pid", "cmdline"]):
            if ray_tmp in " ".join(p.info["cmdline"] or []):
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
        shutil.rmtree(ray_tmp, ignore_errors=True)


def measure(name: str, command: list[str], port: int, ray_tmp: str | None, args) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore",  # mlflow runs `uvicorn` from PATH
           "PATH": os.path.dirname(PY) + os.pathsep + os.environ.get("PATH", "")}
    if ray_tmp:
        env["RAY_TMPDIR"] = ray_tmp
    phases = None
    if name == "kernelflow" and args.phases:
        phases = tempfile.NamedTemporaryFile("w+", suffix=".phases", delete=False).name
        env["KERNELFLOW_SERVE_PHASES"] = phases
    wall = time.time()
    start = time.monotonic()
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            first = wait_first_200(port, proc, start)
        except RuntimeError as exc:
            log.seek(0)
            tail = "".join(log.readlines()[-5:])
            print(f"  {name:<11} did not start ({exc}):\n{tail}", flush=True)
            return None
        if phases:
            print_phases(phases, wall, first, proc.pid)
        if args.first_200_only:
            print(f"  {name:<11} first 200 {first:6.2f} s", flush=True)
            return {"server": name, "first_200_s": first}
        latency(port, 30)  # warm up
        p50, p99 = latency(port, args.requests)
        rps8 = throughput(port, 8, args.seconds)
        rps32 = throughput(port, 32, args.seconds)
        rss = tree_rss_mib(proc, ray_tmp)
    finally:
        stop(proc, ray_tmp)
    row = {"server": name, "first_200_s": first, "p50_ms": p50, "p99_ms": p99,
           "rps_8": rps8, "rps_32": rps32, "rss_mib": rss}
    print(f"  {name:<11} first 200 {first:6.2f} s   p50 {p50:6.2f} ms   p99 {p99:7.2f} ms   "
          f"{rps8:6.0f} req/s @8   {rps32:6.0f} req/s @32   {rss:6.0f} MiB", flush=True)
    return row


def print_phases(path: str, wall: float, first: float, cli_pid: int) -> None:
    """The marks the CLI and the replica wrote, in seconds from the command's start."""
    with open(path) as f:
        marks = [line.split(" ", 2) for line in f.read().splitlines() if line]
    os.unlink(path)
    print("    phases (s from the command):")
    previous = 0.0
    for stamp, pid, phase in sorted(marks, key=lambda m: float(m[0])):
        at = float(stamp) - wall
        who = "cli" if int(pid) == cli_pid else f"pid {pid}"
        print(f"      {at:6.2f}  (+{at - previous:5.2f})  {who:<10} {phase}")
        previous = at
    print(f"      {first:6.2f}  (+{first - previous:5.2f})  client     first 200")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per concurrency level")
    parser.add_argument("--requests", type=int, default=300, help="for the latency figures")
    parser.add_argument("--only", default="mlflow,kernelflow,ray")
    parser.add_argument("--phases", action="store_true",
                        help="print where kernelflow's time to the first 200 goes")
    parser.add_argument("--first-200-only", action="store_true",
                        help="measure only the time to the first 200")
    parser.add_argument("--repeat", type=int, default=1, help="runs per server (with "
                        "--first-200-only; the median is printed)")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="kfbench")
    uri, model_dir, pickle_path = make_model(root)
    plain = os.path.join(root, "plain_ray.py")
    with open(plain, "w") as f:
        f.write(PLAIN_RAY)
    rows = {}
    print(f"serving benchmark on {os.cpu_count()} cores (one run, side by side); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    repeat = args.repeat if args.first_200_only else 1
    for name in args.only.split(","):
        runs = []
        for _ in range(repeat):
            port = free_port()
            ray_tmp = tempfile.mkdtemp(prefix="kfb", dir="/tmp") if name != "mlflow" else None
            command = {
                "mlflow": [PY, "-m", "mlflow", "models", "serve", "-m", model_dir, "-p",
                           str(port), "-h", "127.0.0.1", "--env-manager", "local"],
                "kernelflow": [PY, "-m", "kernelflow", "serve", "models:/bench/1", "-p",
                               str(port), "--store", uri],
                "ray": [PY, plain, pickle_path, str(port)],
            }[name]
            row = measure(name, command, port, ray_tmp, args)
            if row:
                runs.append(row)
        if runs:
            rows[name] = sorted(runs, key=lambda r: r["first_200_s"])[len(runs) // 2]
            if repeat > 1:
                print(f"  {name:<11} median first 200 {rows[name]['first_200_s']:6.2f} s "
                      f"of {len(runs)}", flush=True)
    shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if "mlflow" in rows and "kernelflow" in rows:
        m, k = rows["mlflow"], rows["kernelflow"]
        print("kernelflow vs mlflow models serve (target):")
        if not args.first_200_only:
            print(f"  req/s @8   {k['rps_8'] / m['rps_8']:.2f}x  (>= 1.0x)")
            print(f"  req/s @32  {k['rps_32'] / m['rps_32']:.2f}x  (>= 2.0x)")
            print(f"  p50 @1     {k['p50_ms'] / m['p50_ms']:.2f}x  (<= 1.5x)")
        print(f"  first 200  {k['first_200_s']:.2f} s vs {m['first_200_s']:.2f} s  (<= 8 s)")
        if not args.first_200_only:
            print(f"  memory     {k['rss_mib'] / m['rss_mib']:.2f}x")

if __name__ == "__main__":
    main()
