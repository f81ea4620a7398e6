"""Both evaluations against a kernelflow server (an http:// tracking URI), as on a local file."""

from __future__ import annotations

import pandas as pd
import pytest

import kernelflow as kf


@pytest.fixture
def remote(tracking_uri, eval_api_server, monkeypatch):
    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", eval_api_server)
    kf.set_tracking_uri(eval_api_server)  # the tracking_uri fixture resets it afterwards
    return eval_api_server


def test_genai_evaluation_of_a_dataset_over_http(remote):
    ds = kf.genai.datasets.create_dataset("remote-eval", experiment_id="0")
    ds.merge_records([{"inputs": {"x": i}, "expectations": {"double": 2 * i}} for i in range(3)])

    @kf.genai.scorer
    def doubled(outputs, expectations):
        return outputs == expectations["double"]

    r = kf.genai.evaluate(ds, predict_fn=lambda x: 2 * x if x else -1, scorers=[doubled])
    assert r.metrics == {"doubled/mean": pytest.approx(2 / 3)}
    assert kf.get_run(r.run_id).data.metrics["doubled/mean"] == pytest.approx(2 / 3)
    got = {(a.kind, a.name): a.value for a in kf.Client().get_assessments(r.rows[0].trace_id)}
    assert got == {("expectation", "double"): 0, ("feedback", "doubled"): False}


def test_classic_evaluation_over_http(remote):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression

    df = pd.DataFrame({"a": range(50), "b": [v % 7 for v in range(50)]})
    df["y"] = 3 * df["a"] - df["b"]
    model = LinearRegression().fit(df[["a", "b"]], df["y"])
    r = kf.evaluate(model, df, targets="y", model_type="regressor")
    assert r.metrics["r2_score"] == pytest.approx(1.0)
    assert "residuals_plot.png" in {f.path for f in kf.Client().list_artifacts(r.run_id)}
