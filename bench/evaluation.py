"""Evaluation benchmark: ``kf.evaluate`` vs ``mlflow.evaluate`` in the same process.

1. Classic: a logistic regression on 100,000 rows x 10 features, binary labels.
   Both evaluate the same fitted model on the same DataFrame, each into its own
   SQLite store under a temp folder, each once at 2,000 rows first (imports and
   caches warm), then ``--repeat`` times at full size; the best time counts.
   MLflow runs with SHAP off (``log_model_explainability: False``). Target:
   kf at least 5x faster. Prints metrics and artifacts counted on both sides.
2. GenAI: ``kf.genai.evaluate`` of ``--genai-rows`` rows with two LLM judges
   against a local fake OpenAI-compatible server that answers after
   ``--latency`` seconds: rows/s with the concurrency pool vs one at a time.
   (Skipped with ``--no-genai``.)

Usage::

    python bench/evaluation.py [--rows 100000] [--repeat 3] [--genai-rows 200] [--no-genai]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

TARGET_RATIO = 5.0

import warnings  # noqa: E402

warnings.filterwarnings("ignore")  # MLflow's schema hints and deprecation notes


def _data(rows: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 10))
    y = (X @ rng.normal(size=10) + rng.normal(scale=2.0, size=rows) > 0).astype(int)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    df["label"] = y
    return df


def _time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_classic(rows: int, repeat: int, folder: str) -> float:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    import kernelflow as kf

    df = _data(rows)
    small = _data(2000, seed=1)
    features = [c for c in df.columns if c != "label"]
    model = LogisticRegression(max_iter=300).fit(df[features], df["label"])

    kf.set_tracking_uri(f"sqlite:///{folder}/kf.db")
    kf.set_experiment("bench-eval")

    def run_kf(data):
        return kf.evaluate(model, data, targets="label", model_type="classifier")

    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    mlflow.set_experiment("bench-eval")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model")
    loaded = mlflow.pyfunc.load_model(info.model_uri)  # both sides get a model in memory

    def run_mlflow(data):
        with mlflow.start_run():
            return mlflow.models.evaluate(
                loaded, data, targets="label", model_type="classifier",
                evaluator_config={"log_model_explainability": False})

    run_kf(small)
    run_mlflow(small)
    t_kf, r_kf = _time(lambda: run_kf(df), repeat)
    t_ml, r_ml = _time(lambda: run_mlflow(df), repeat)
    ratio = t_ml / t_kf
    print(f"classic evaluation, logistic regression, {rows:,} rows (best of {repeat})")
    print(f"  mlflow.evaluate : {t_ml:7.3f} s  ({len(r_ml.metrics)} metrics, "
          f"{len(r_ml.artifacts)} artifacts)")
    print(f"  kf.evaluate     : {t_kf:7.3f} s  ({len(r_kf.metrics)} metrics, "
          f"{len(r_kf.artifacts)} artifacts)")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"  ratio           : {ratio:7.1f}x faster  ({verdict} the >= {TARGET_RATIO:.0f}x target)")
    shared = sorted(set(r_kf.metrics) & set(r_ml.metrics))
    worst = max(abs(float(r_kf.metrics[k]) - float(r_ml.metrics[k])) for k in shared)
    print(f"  {len(shared)} metrics logged by both; largest difference {worst:.2e}")
    return ratio


def bench_genai(rows: int, latency: float) -> None:
    try:
        from kernelflow.genai.fake import FakeJudgeServer
    except ImportError:
        print("genai evaluation: kernelflow.genai is not available; skipped")
        return
    import kernelflow as kf

    data = [{"inputs": {"question": f"q{i}"}, "outputs": f"answer {i}",
             "expectations": {"expected_response": f"answer {i}"}} for i in range(rows)]
    with FakeJudgeServer(latency=latency) as server:
        judges = [kf.genai.judges.Correctness(model="openai/fake-judge", api_base=server.url),
                  kf.genai.judges.RelevanceToQuery(model="openai/fake-judge",
                                                   api_base=server.url)]
        out = {}
        for label, workers in (("sequential", 1), ("pool", 16)):
            t0 = time.perf_counter()
            kf.genai.evaluate(data, scorers=judges, max_workers=workers)
            out[label] = rows / (time.perf_counter() - t0)
    print(f"genai evaluation, {rows} rows x 2 judges, fake provider latency {latency * 1000:.0f} ms")
    print(f"  sequential : {out['sequential']:8.1f} rows/s")
    print(f"  pool (16)  : {out['pool']:8.1f} rows/s  ({out['pool'] / out['sequential']:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--genai-rows", type=int, default=200)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--no-genai", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kf-bench-eval-") as folder:
        os.chdir(folder)  # MLflow's artifacts go under ./mlruns
        bench_classic(args.rows, args.repeat, folder)
        if not args.no_genai:
            bench_genai(args.genai_rows, args.latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
