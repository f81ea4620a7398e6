"""Dashboard benchmark, measured in a real headless Chromium against the real server.

1. Time to the first rendered row of the runs page of an experiment with 10,000 runs.
2. Time to a drawn chart (Bokeh reports every view finished, curve data present) of a
   metric with 1,000,000 points on the run page.

Both clocks start at ``page.goto`` and stop when the browser shows the result. "cold" is a
fresh browser context (nothing cached); "warm" reloads in the same context (the JS bundles
cached, as for a user who has opened the dashboard before). Targets: <= 2 s each.

Usage::

    python bench/dashboard.py [--runs 10000] [--points 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_S = 2.0

# True once Bokeh has finished drawing every view and some curve holds data.
CHART_DRAWN_JS = """() => {
  if (!window.Bokeh || !Bokeh.index) return false;
  const views = [];
  const walk = (v) => { views.push(v); for (const c of (v.children ? v.children() : [])) walk(c); };
  for (const root of Object.values(Bokeh.index)) walk(root);
  const glyphs = views.filter(v => v.model && v.model.type === 'GlyphRenderer');
  const filled = glyphs.filter(v => {
    const cols = Object.values(v.model.data_source.data || {});
    return cols.length && cols[0].length > 0;
  });
  // Tool and CDS views never "finish"; the curves and their plots do once painted.
  return filled.length > 0 && filled.every(v => v.has_finished() && v.parent.has_finished());
}"""


def seed(db_uri: str, n_runs: int, n_points: int) -> tuple[str, str]:
    """Create experiment ``bench`` with ``n_runs`` runs and one run with a long curve."""
    import kernelflow
    from kernelflow.entities import Metric, Param

    client = kernelflow.Client(db_uri)
    exp = client.create_experiment("bench")
    now = int(time.time() * 1000)
    for i in range(n_runs):
        run = client.create_run(exp, run_name=f"bench-run-{i}", start_time=now - (n_runs - i) * 1000)
        rid = run.info.run_id
        client.log_batch(rid, params=[Param("model", ("tree", "linear", "mlp")[i % 3]),
                                      Param("lr", str(10.0 ** -(i % 4)))],
                         metrics=[Metric("rmse", float(np.random.rand()), now, 0),
                                  Metric("acc", float(np.random.rand()), now, 0)])
        client.set_terminated(rid)
    big = client.create_run(exp, run_name="million-points")
    rid = big.info.run_id
    steps = np.arange(n_points)
    values = np.sin(steps / 20_000) + np.random.rand(n_points) * 0.1
    client.flush()
    batch = 1000
    for s in range(0, n_points, batch):
        client.log_batch(rid, metrics=[Metric("loss", float(v), now + int(k), int(k))
                                       for k, v in zip(steps[s:s + batch], values[s:s + batch], strict=False)])
    client.set_terminated(rid)
    client.flush()
    assert len(client.get_metric_history(rid, "loss")) == n_points
    return exp, rid


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_uri: str, artifacts: str) -> tuple[subprocess.Popen, str]:
    """Start the dashboard server and wait for /health."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernelflow_dashboard.server", "--store", db_uri, "--artifacts",
         artifacts, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url + "/health", timeout=1).read() == b"OK":
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the dashboard server did not become healthy in 60 s")


def timed(page, url: str, wait) -> float:
    """Seconds from navigation start until ``wait(page)`` returns."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    wait(page)
    return time.perf_counter() - t0


def first_row(page) -> None:
    page.locator(".kf-runs .tabulator-row").first.wait_for(state="visible", timeout=60_000)


def chart_drawn(page) -> None:
    page.locator(".kf-chart canvas").first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(CHART_DRAWN_JS, polling="raf", timeout=60_000)


def measure(browser, url: str, wait, repeat: int) -> tuple[float, float]:
    """Return (cold, median warm) seconds for one page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    cold = timed(page, url, wait)
    warm = [timed(page, url, wait) for _ in range(repeat)]
    context.close()
    return cold, statistics.median(warm)


def main(argv: list[str] | None = None) -> None:
    """Seed, serve, measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"needs Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db_uri = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t = time.perf_counter()
        _, big = seed(db_uri, args.runs, args.points)
        print(f"seeded {args.runs:,} runs + {args.points:,} points in {time.perf_counter() - t:.1f}s")
        proc, url = start_server(db_uri, str(Path(tmp) / "artifacts"))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                report(browser, url, big, args)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


def report(browser, url: str, big_run: str, args) -> None:
    """Measure both pages and print one line each."""
    rows = measure(browser, f"{url}/runs?experiment=bench", first_row, args.repeat)
    chart = measure(browser, f"{url}/run?id={big_run}", chart_drawn, args.repeat)
    for label, (cold, warm) in ((f"runs page, first row ({args.runs:,} runs)", rows),
                                (f"run page, chart drawn ({args.points:,} points)", chart)):
        verdict = "OK" if warm <= TARGET_S else "SLOW"
        print(f"{label:<45} cold {cold:5.2f}s  warm {warm:5.2f}s  "
              f"(target <= {TARGET_S:.0f}s: {verdict})")


if __name__ == "__main__":
    main()
