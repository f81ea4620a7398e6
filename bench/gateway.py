"""Gateway benchmark: a direct call vs ``kernelflow gateway`` vs the LiteLLM proxy.

One run, side by side, the same fake OpenAI-compatible provider for all (a separate
process on 127.0.0.1, ``kernelflow_gateway.fake``). For each target:

- added latency p50 / p99 at 1 connection (a chat completion, minus the direct call's);
- requests/s at 16 concurrent keep-alive connections;
- time to the first byte of a streamed answer (p50);
- the time from starting the command to its first 200 on a chat completion;
- the resident memory of the whole process tree.

Targets (from the gateway issue): added p50 <= the LiteLLM proxy's, requests/s >= the
proxy's, startup <= the proxy's. The ratios are printed. The LiteLLM proxy runs as
``litellm --config`` with no database (it needs the ``litellm[proxy]`` dependencies and
a master key, which the script sets); when it cannot start, the script says so and
reports the other two. The load generator is Python threads on the same cores.

Usage::

    python bench/gateway.py [--requests 300] [--seconds 5] [--only direct,kernelflow,litellm]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psutil

PY = sys.executable
BIN = os.path.dirname(PY)
BODY = json.dumps({"model": "chat", "messages": [{"role": "user", "content": "hello"}]}).encode()
STREAM_BODY = json.dumps({"model": "chat", "stream": True,
                          "messages": [{"role": "user", "content": "one two three"}]}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return float("nan")


class Target:
    """One thing to call: a port, a path prefix, headers, maybe a process."""

    def __init__(self, name: str, port: int, prefix: str, headers: dict,
                 proc: subprocess.Popen | None = None, first_200_s: float | None = None):
        self.name, self.port, self.prefix, self.headers = name, port, prefix, headers
        self.proc, self.first_200_s = proc, first_200_s

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.connect()
        return conn

    def post(self, conn: http.client.HTTPConnection, body: bytes = BODY) -> int:
        conn.request("POST", self.prefix + "/chat/completions", body=body,
                     headers={"Content-Type": "application/json", **self.headers})
        response = conn.getresponse()
        response.read()
        return response.status

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start(name: str, argv: list[str], port: int, prefix: str, headers: dict,
          env: dict | None = None, timeout: float = 240) -> Target | None:
    """Start a server and wait for its first 200 on a chat completion."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    target = Target(name, port, prefix, headers, proc)
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            break
        try:
            conn = target.connect()
            if target.post(conn) == 200:
                conn.close()
                target.first_200_s = time.perf_counter() - t0
                return target
            conn.close()
        except OSError:
            pass
        time.sleep(0.05)
    target.stop()
    with open(log.name, errors="replace") as f:
        tail = f.read()[-800:]
    print(f"  {name}: did not answer 200 within {timeout:.0f} s; its output ends with:\n{tail}")
    return None


def latencies(target: Target, n: int) -> list[float]:
    conn = target.connect()
    for _ in range(20):  # warm up
        target.post(conn)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status = target.post(conn)
        out.append((time.perf_counter() - t) * 1000)
        assert status == 200, f"{target.name} answered {status}"
    conn.close()
    return out


def throughput(target: Target, connections: int, seconds: float) -> float:
    done = [0] * connections
    errors = [0] * connections
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = target.connect()
        while time.perf_counter() < stop:
            try:
                if target.post(conn) == 200:
                    done[i] += 1
                else:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = target.connect()
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if sum(errors):
        print(f"    ({sum(errors)} failed requests at {connections} connections)")
    return sum(done) / (time.perf_counter() - t0)


def ttfb(target: Target, n: int = 30) -> float:
    out = []
    for _ in range(n):
        conn = target.connect()
        t = time.perf_counter()
        conn.request("POST", target.prefix + "/chat/completions", body=STREAM_BODY,
                     headers={"Content-Type": "application/json", **target.headers})
        response = conn.getresponse()
        first = response.readline()  # the first SSE line
        out.append((time.perf_counter() - t) * 1000)
        assert first.startswith(b"data:"), (target.name, first)
        response.read()
        conn.close()
    return statistics.median(out)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests at 1 connection")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds at 16 connections")
    parser.add_argument("--only", default="direct,kernelflow,litellm")
    args = parser.parse_args()
    only = set(args.only.split(","))
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    print(f"gateway benchmark on {os.cpu_count()} cores (one run, side by side)")

    work = tempfile.mkdtemp(prefix="kf-bench-gateway-")
    fake_port = free_port()
    fake = subprocess.Popen([PY, "-m", "kernelflow_gateway.fake", str(fake_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fake.stdout.readline()  # its URL: it is listening
    config = os.path.join(work, "gateway.yaml")
    with open(config, "w") as f:
        f.write("model_list:\n  - model_name: chat\n    litellm_params:\n"
                f"      model: openai/gpt-4o-mini\n      api_base: http://127.0.0.1:{fake_port}/v1\n"
                "      api_key: sk-bench\n")
    master = "sk-" + secrets.token_hex(32)
    targets: list[Target] = []
    try:
        direct = Target("direct", fake_port, "/v1", {"Authorization": "Bearer sk-bench"},
                        first_200_s=0.0)
        targets.append(direct)
        if "kernelflow" in only:
            port = free_port()
            t = start("kernelflow", [PY, "-m", "kernelflow", "gateway", "--config", config,
                                     "--port", str(port), "--store",
                                     f"sqlite:///{work}/kernelflow.db"], port, "/v1", {})
            if t:
                targets.append(t)
        if "litellm" in only:
            port = free_port()
            exe = os.path.join(BIN, "litellm")
            t = start("litellm", [exe, "--config", config, "--port", str(port),
                                  "--num_workers", "1"], port, "/v1",
                      {"Authorization": f"Bearer {master}"},
                      env={"LITELLM_MASTER_KEY": master,
                           "LITELLM_LOG": "ERROR"})
            if t:
                targets.append(t)

        results = {}
        for t in targets:
            lat = latencies(t, args.requests)
            results[t.name] = {
                "p50": statistics.median(lat), "p99": pct(lat, 0.99),
                "rps": throughput(t, 16, args.seconds), "ttfb": ttfb(t),
                "first": t.first_200_s, "rss": rss_mib(t.proc.pid) if t.proc else float("nan"),
            }
        base = results["direct"]
        print(f"\n  {'':11} {'added p50':>10} {'added p99':>10} {'req/s@16':>9} {'stream TTFB':>12} "
              f"{'first 200':>10} {'RSS':>9}")
        for name, r in results.items():
            print(f"  {name:<11} {r['p50'] - base['p50']:8.2f}ms {r['p99'] - base['p99']:8.2f}ms "
                  f"{r['rps']:9.0f} {r['ttfb']:10.2f}ms {r['first']:9.2f}s {r['rss']:7.0f}MiB")
        print(f"\n  direct call: p50 {base['p50']:.2f} ms, p99 {base['p99']:.2f} ms")
        k, lp = results.get("kernelflow"), results.get("litellm")
        if k and lp:
            added_k, added_l = k["p50"] - base["p50"], lp["p50"] - base["p50"]
            print("\nkernelflow gateway vs LiteLLM proxy (target):")
            print(f"  added p50   {added_k / added_l:.2f}x  ({added_k:.2f} vs {added_l:.2f} ms; "
                  "<= 1.0x)")
            print(f"  added p99   {(k['p99'] - base['p99']) / (lp['p99'] - base['p99']):.2f}x")
            print(f"  req/s @16   {k['rps'] / lp['rps']:.2f}x  (>= 1.0x)")
            print(f"  stream TTFB {k['ttfb'] / lp['ttfb']:.2f}x")
            print(f"  first 200   {k['first'] / lp['first']:.2f}x  ({k['first']:.1f} vs "
                  f"{lp['first']:.1f} s; <= 1.0x)")
            print(f"  memory      {k['rss'] / lp['rss']:.2f}x")
    finally:
        for t in targets:
            t.stop()
        fake.terminate()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
