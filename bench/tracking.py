"""Tracking benchmarks through the public API, against MLflow in the same run.

    python bench/tracking.py [--quick]

Prints one line per figure: kernelflow's number, the target from issue 2, and,
when ``mlflow`` is importable, MLflow's client on its own SQLite store measured
here on a smaller workload (MLflow is too slow for the full one), scaled to the
same unit, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


# -- kernelflow ------------------------------------------------------------------
def kf_log_metric(n: int):
    import kernelflow as kf

    run = kf.start_run(run_name="bench-log-metric")
    log = kf.log_metric
    t0 = time.perf_counter()
    for i in range(n):
        log("loss", 0.5, step=i)
    t1 = time.perf_counter()
    kf.end_run()
    t2 = time.perf_counter()
    return (t1 - t0) / n, n / (t2 - t0), run.info.run_id


def kf_bulk(n: int):
    import kernelflow as kf

    client = kf.Client()
    run = client.create_run("0", run_name="bench-bulk")
    now = int(time.time() * 1000)
    t0 = time.perf_counter()
    for start in range(0, n, 1000):
        client.log_batch(run.info.run_id,
                         metrics=[kf.Metric("x", 0.5, now, s) for s in range(start, start + 1000)])
    client.set_terminated(run.info.run_id)
    return n / (time.perf_counter() - t0)


def kf_history(run_id: str):
    import kernelflow as kf

    seconds, hist = timed(kf.get_metric_history, run_id, "loss")
    return seconds, len(hist)


def kf_runs(n: int):
    import kernelflow as kf

    kf.set_experiment("bench-runs")
    t0 = time.perf_counter()
    for i in range(n):
        with kf.start_run():
            kf.log_params({f"p{j}": i % (j + 2) for j in range(4)} | {"opt": ("adam", "sgd")[i % 2]})
            kf.log_metrics({"acc": (i % 100) / 100, "loss": 1 / (i + 1), "f1": 0.5, "m3": 1.0,
                            "m4": 2.0})
            kf.set_tags({"team": "a", "stage": "dev", "i": i})
    return time.perf_counter() - t0


def kf_search():
    import kernelflow as kf

    kf.search_runs(experiment_names=["bench-runs"], max_results=10)  # warm the caches
    f, frame1 = timed(kf.search_runs, None, "metrics.acc > 0.5 and params.opt = 'adam'",
                      "ACTIVE_ONLY", 100_000, None, "pandas", False, ["bench-runs"])
    o, frame2 = timed(kf.search_runs, None, "", "ACTIVE_ONLY", 100_000, ["metrics.acc DESC"],
                      "pandas", False, ["bench-runs"])
    return f, len(frame1), o, len(frame2)


def import_time(module: str) -> tuple[float, list[str]]:
    code = (
        f"import time, sys; t = time.perf_counter(); import {module}; d = time.perf_counter() - t; "
        "heavy = [h for h in ('ray', 'litellm', 'panel', 'holoviews', 'bokeh', 'torch', 'sklearn') "
        "if h in sys.modules]; print(d, ','.join(heavy))"
    )
    best, heavy = 1e9, []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        seconds, _, mods = out.stdout.strip().partition(" ")
        best, heavy = min(best, float(seconds)), [m for m in mods.split(",") if m]
    return best, heavy


# -- mlflow (smaller workloads) ----------------------------------------------------
def mlflow_figures(tmp: str, quick: bool) -> dict:
    import mlflow
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    mlflow.set_experiment("bench")
    out = {}
    n = 100 if quick else 300
    with mlflow.start_run() as run:
        t0 = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", 0.5, step=i)
        out["per_call"] = (time.perf_counter() - t0) / n
    out["end_to_end"] = 1 / out["per_call"]
    client = mlflow.MlflowClient()
    run = client.create_run(run.info.experiment_id)
    now = int(time.time() * 1000)
    k = 5 if quick else 20
    t0 = time.perf_counter()
    for b in range(k):
        client.log_batch(run.info.run_id, metrics=[Metric("x", 0.5, now, s) for s in range(b * 1000, b * 1000 + 1000)])
    out["bulk"] = k * 1000 / (time.perf_counter() - t0)
    t, hist = timed(client.get_metric_history, run.info.run_id, "x")
    out["history_per_point"] = t / len(hist)
    mlflow.set_experiment("bench-runs")
    m = 20 if quick else 100
    t0 = time.perf_counter()
    for i in range(m):
        with mlflow.start_run():
            mlflow.log_params({f"p{j}": i % (j + 2) for j in range(4)} | {"opt": ("adam", "sgd")[i % 2]})
            mlflow.log_metrics({"acc": (i % 100) / 100, "loss": 1 / (i + 1), "f1": 0.5, "m3": 1.0, "m4": 2.0})
            mlflow.set_tags({"team": "a", "stage": "dev", "i": i})
    out["per_run"] = (time.perf_counter() - t0) / m
    out["runs_measured"] = m
    f, _ = timed(mlflow.search_runs, None, "metrics.acc > 0.5 and params.opt = 'adam'", "ACTIVE_ONLY",
                 100_000, None, "pandas", False, ["bench-runs"])
    o, _ = timed(mlflow.search_runs, None, "", "ACTIVE_ONLY", 100_000, ["metrics.acc DESC"], "pandas",
                 False, ["bench-runs"])
    out["search_filter"], out["search_order"] = f, o
    return out


def row(name: str, value: str, target: str, mlflow_value: str = "", ratio: str = "") -> None:
    print(f"{name:<42} {value:>16} {target:>14} {mlflow_value:>16} {ratio:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller workloads (smoke test)")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    n_runs = 500 if args.quick else 5_000
    tmp = tempfile.mkdtemp(prefix="kf-bench-")
    os.environ["KERNELFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/kernelflow.db"
    import kernelflow as kf

    per_call, e2e, run_id = kf_log_metric(n)
    bulk = kf_bulk(n)
    hist_s, hist_n = kf_history(run_id)
    runs_s = kf_runs(n_runs)
    sf, sf_n, so, so_n = kf_search()
    imp, heavy = import_time("kernelflow")
    imp_use, heavy_use = import_time("kernelflow; kernelflow.Client; kernelflow.log_metric")
    heavy = sorted(set(heavy) | set(heavy_use))
    kf.flush()

    ml = {}
    try:
        import mlflow  # noqa: F401

        ml = mlflow_figures(tmp, args.quick)
        ml_imp, _ = import_time("mlflow")
    except ImportError:
        print("(mlflow is not installed: no comparison)")

    def ratio(ours: float, theirs: float | None, higher_is_better: bool) -> str:
        if not theirs:
            return ""
        return f"{(ours / theirs if higher_is_better else theirs / ours):,.0f}x"

    print(f"\nkernelflow {kf.__version__}, {n:,} points, {n_runs:,} runs, store {tmp}\n")
    row("figure", "kernelflow", "target", "mlflow" if ml else "", "speed-up" if ml else "")
    row(f"log_metric per call ({n:,} calls)", f"{per_call * 1e6:.2f} us", "<= 2 us",
        f"{ml['per_call'] * 1e6:,.0f} us" if ml else "", ratio(1 / per_call, 1 / ml["per_call"] if ml else None, True))
    row(f"{n:,} log_metric + end_run", f"{e2e:,.0f} pts/s", ">= 330k pts/s",
        f"{ml['end_to_end']:,.0f} pts/s" if ml else "", ratio(e2e, ml.get("end_to_end"), True))
    row("bulk through log_batch", f"{bulk:,.0f} pts/s", ">= 1M pts/s",
        f"{ml['bulk']:,.0f} pts/s" if ml else "", ratio(bulk, ml.get("bulk"), True))
    row(f"get_metric_history ({hist_n:,} points)", f"{hist_s * 1000:.0f} ms", "<= 500 ms",
        f"{ml['history_per_point'] * hist_n:,.1f} s*" if ml else "",
        ratio(hist_s, ml["history_per_point"] * hist_n if ml else None, False))
    row(f"create {n_runs:,} runs (5 params, 5 metrics, 3 tags)", f"{runs_s:.2f} s",
        "<= 5 s" if n_runs == 5000 else "", f"{ml['per_run'] * n_runs:,.1f} s*" if ml else "",
        ratio(runs_s, ml["per_run"] * n_runs if ml else None, False))
    row(f"search_runs filter ({sf_n} of {n_runs:,})", f"{sf * 1000:.1f} ms", "<= 50 ms",
        f"{ml['search_filter'] * 1000:.0f} ms/{ml['runs_measured']}" if ml else "")
    row(f"search_runs order_by ({so_n} runs)", f"{so * 1000:.1f} ms", "<= 50 ms",
        f"{ml['search_order'] * 1000:.0f} ms/{ml['runs_measured']}" if ml else "")
    row("import kernelflow", f"{imp * 1000:.0f} ms", "<= 300 ms",
        f"{ml_imp * 1000:,.0f} ms" if ml else "", ratio(imp, ml_imp if ml else None, False))
    row("import kernelflow + load the tracking API", f"{imp_use * 1000:.0f} ms", "<= 300 ms")
    print(f"heavy modules imported by `import kernelflow` and the tracking API: {heavy or 'none'}")
    if ml:
        print("* MLflow measured on a smaller workload here and scaled linearly to the same size;"
              f" its searches ran over {ml['runs_measured']} runs, not {n_runs:,}.")


if __name__ == "__main__":
    main()
