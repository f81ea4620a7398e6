"""How much does a live chart slow a training loop? (Target: under 2 %.)

Runs a 100k-step loop that logs one metric per step, with and without a live
chart following the run (the real LiveChart, its header and anywidget plot, the
static copy it redraws every ~1.5 s so a dead kernel leaves a picture, and the poller
thread, reading the real SQLite file; shown in an IPython shell whose display
messages are captured, as a kernel would send them). Two loops: a bare one (only
log_metric) and one with ~30 us of numpy work per step (about 3 s per run), so
the chart redraws several times while the loop runs. Prints wall time (median, min) and process CPU time (all threads, so the
chart thread's work counts) of alternating repetitions, and what the run's end
costs once: the final output (interactive HTML with its static pictures, and the
SVG image) that replaces the live widget so the saved notebook keeps the charts.

    python bench/live_chart.py [--steps 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import kernelflow as kf
from kernelflow.widgets.live_chart import LiveChart

_root: str | None = None


def loop(steps: int, work: bool) -> None:
    a = np.random.default_rng(0).random(16_384)
    for i in range(steps):
        if work:
            a = np.sqrt(a * a + 1e-3)  # stand-in for a training step
        kf.log_metric("loss", 1.0 / (i + 1), step=i)


def timed(steps: int, work: bool, live: bool) -> tuple[float, float, int, float, int, float]:
    # A fresh file per run: a growing database would favour whichever mode runs first.
    kf.set_tracking_uri(f"sqlite:///{tempfile.mkdtemp(dir=_root)}/bench.db")
    with kf.start_run() as run:
        # displayed as in a kernel (copy and widget outputs, copy updates), no frontend here
        chart = LiveChart(run.info.run_id).display().start() if live else None
        start, cpu = time.perf_counter(), time.process_time()
        loop(steps, work)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    redraws, final, copies, copy_s = 0, 0.0, 0, 0.0
    if chart is not None:
        chart.stop()
        redraws, copies, copy_s = chart.redraws, chart.copies, chart.copy_seconds
        start = time.perf_counter()
        bundle = chart.final_bundle()  # what update_display sends when the run ends
        final = time.perf_counter() - start
        assert "kf-final" in bundle["text/html"]
    return elapsed, cpu, redraws, final, copies, copy_s


def measure(steps: int, repeat: int, work: bool) -> None:
    plain, live, redraws, finals, copies, copy_s = [], [], [], [], [], []
    plain_cpu, live_cpu = [], []
    timed(steps // 10, work, True)  # warm up imports, the store and the poller
    for i in range(repeat):
        for mode in ((False, True) if i % 2 == 0 else (True, False)):  # alternate the order
            t, c, r, f, n, s = timed(steps, work, mode)
            (live if mode else plain).append(t)
            (live_cpu if mode else plain_cpu).append(c)
            if mode:
                redraws.append(r)
                finals.append(f)
                copies.append(n)
                copy_s.append(s)
    label = "with ~30 us work/step" if work else "bare log_metric loop"
    rows = (("wall, median", statistics.median, plain, live), ("wall, min", min, plain, live),
            ("CPU, median", statistics.median, plain_cpu, live_cpu))
    for name, stat, without, with_chart in rows:  # CPU time (all threads) resists other load
        p, lv = stat(without), stat(with_chart)
        print(f"{label:<22} {name:<12} without chart {p:6.3f} s   with live chart "
              f"{lv:6.3f} s   overhead {100 * (lv - p) / p:+5.1f} %   "
              f"redraws/run {statistics.median(redraws):.0f}")
    print(f"{label:<22} final output at the run's end (once): "
          f"{1000 * statistics.median(finals):.1f} ms median")
    per_copy = 1000 * sum(copy_s) / max(1, sum(copies))
    print(f"{label:<22} static copy redrawn mid-run: {statistics.median(copies):.0f} times/run "
          f"(median), {per_copy:.1f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()
    global _root
    InteractiveShell.instance()  # display() publishes through it (captured)
    with tempfile.TemporaryDirectory() as _root:
        print(f"{args.steps} steps, one metric per step, {args.repeat} runs of each (order alternated)")
        with capture_output(stdout=False, stderr=False):  # the chart's display messages
            measure(args.steps, args.repeat, work=False)
            measure(args.steps, args.repeat, work=True)


if __name__ == "__main__":
    main()
