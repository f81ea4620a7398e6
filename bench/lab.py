"""JupyterLab extension benchmark, against a real ``jupyter lab`` with the extension.

1. The side panel's poll: ``GET {base_url}kernelflow-lab/runs`` (30 newest runs of an
   experiment holding N runs), median latency, against the anchor measured in the same
   run: Jupyter's own ``GET api/status`` (the cost of any authenticated request there).
2. The dashboard through jupyter-server-proxy: the first request (which starts
   ``kernelflow ui``) and then a REST call through the proxy, median latency.

No timed assertions: it prints figures and ratios.

Usage::

    python bench/lab.py [--runs 2000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "extension"))
from lab_helpers import start_lab, stop_lab  # noqa: E402


def seed(uri: str, runs: int) -> str:
    import kernelflow

    client = kernelflow.Client(uri)
    exp = client.create_experiment("bench")
    for i in range(runs):
        run = client.create_run(exp, run_name=f"run-{i}")
        client.log_batch(run.info.run_id, metrics=[
            kernelflow.Metric(k, float(i), 0) for k in ("loss", "acc", "lr")])
        client.set_terminated(run.info.run_id)
    client.flush()
    return exp


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        uri = f"sqlite:///{folder}/kernelflow.db"
        exp = seed(uri, args.runs)
        lab = start_lab(Path(folder) / "lab", uri)
        try:
            def ok(path: str) -> None:
                assert lab.get(path).status_code == 200, path

            anchor = median_ms(lambda: ok("api/status"), args.repeat)
            panel = median_ms(lambda: ok(f"kernelflow-lab/runs?experiment_id={exp}"), args.repeat)
            start = time.perf_counter()
            ok("kernelflow/")
            cold = time.perf_counter() - start
            rest = median_ms(lambda: ok("kernelflow/api/2.0/mlflow/experiments/search"
                                        "?max_results=10"), args.repeat)
        finally:
            stop_lab(lab)
    print(f"anchor: Jupyter GET api/status              {anchor:8.1f} ms")
    print(f"side panel poll (30 of {args.runs} runs)       {panel:8.1f} ms  "
          f"({panel / anchor:.1f}x the anchor)")
    print(f"dashboard first request (starts it)         {cold:8.2f} s")
    print(f"REST call through the proxy                 {rest:8.1f} ms  "
          f"({rest / anchor:.1f}x the anchor)")


if __name__ == "__main__":
    main()
