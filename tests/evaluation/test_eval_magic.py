"""``%kf evaluate`` through a real IPython shell: the result (metrics, plots) is the cell's value."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

pytest.importorskip("sklearn")
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import kernelflow as kf  # noqa: E402


@pytest.fixture
def loaded(eval_shell):
    X, y = make_classification(500, 4, random_state=0)
    df = pd.DataFrame(X, columns=list("abcd"))
    df["label"] = y
    model = LogisticRegression().fit(X, y)
    with kf.start_run():
        info = kf.log_model(model, "model", registered_model_name="evalmagic")
    kf.Client().set_registered_model_alias("evalmagic", "champion", info.registered_model_version)
    eval_shell.user_ns.update(df=df, model=model)
    return eval_shell, model, df


def test_evaluate_a_registered_model_shows_metrics_and_plots(loaded):
    shell, model, df = loaded
    result = shell.run_line_magic("kf", "evaluate models:/evalmagic@champion df --targets label")
    assert result.metrics["accuracy_score"] == pytest.approx(
        model.score(df[list("abcd")].to_numpy(), df["label"]))
    html = result._repr_html_()
    assert "roc_auc" in html and html.count("<img") == 3
    assert kf.get_run(result.run_id).data.metrics["example_count"] == 500


def test_evaluate_a_variable_with_a_baseline(loaded):
    shell, _, _ = loaded
    result = shell.run_line_magic("kf", "evaluate model df -t label -m classifier --baseline model")
    assert result.baseline_model_metrics == pytest.approx(
        {k: v for k, v in result.metrics.items()})


def test_usage_errors_are_clear(loaded):
    shell, _, _ = loaded
    with pytest.raises(UsageError, match="no kernel variable named 'nodata'"):
        shell.run_line_magic("kf", "evaluate model nodata --targets label")
    with pytest.raises(UsageError, match="not a column"):
        shell.run_line_magic("kf", "evaluate model df --targets nope")
    with pytest.raises(UsageError, match="--targets"):
        shell.run_line_magic("kf", "evaluate model df")
