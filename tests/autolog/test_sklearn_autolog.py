"""scikit-learn autolog: fit, pipelines, searches, failures, disabling."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import kernelflow  # noqa: E402

X, y = load_iris(return_X_y=True, as_frame=True)


def test_classifier_fit_logs_params_metrics_and_model(autolog, runs, client):
    autolog()
    model = LogisticRegression(C=0.5, max_iter=300).fit(X, y)
    (run,) = runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["C"] == "0.5" and run.data.tags["estimator_name"] == "LogisticRegression"
    for key in ("training_score", "training_accuracy_score", "training_f1_score",
                "training_precision_score", "training_recall_score", "training_log_loss",
                "training_roc_auc"):
        assert 0 <= run.data.metrics[key] <= 1 or key == "training_log_loss", key
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    loaded = kernelflow.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert list(loaded.input_example.columns) == list(X.columns) and len(loaded.input_example) == 5


def test_regressor_metrics(autolog, runs):
    autolog()
    Xd, yd = load_diabetes(return_X_y=True)
    LinearRegression().fit(Xd, yd)
    metrics = runs()[0].data.metrics
    assert metrics["training_root_mean_squared_error"] == pytest.approx(
        metrics["training_mean_squared_error"] ** 0.5
    )
    assert 0 < metrics["training_r2_score"] < 1 and metrics["training_mean_absolute_error"] > 0


def test_pipeline_is_one_run_with_nested_params(autolog, runs):
    autolog(log_models=False)
    make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    (run,) = runs()
    assert run.data.params["logisticregression__max_iter"] == "300"
    assert run.data.tags["estimator_name"] == "Pipeline"


def test_fit_inside_an_active_run_uses_it(autolog, runs):
    autolog(log_models=False)
    with kernelflow.start_run() as active:
        LogisticRegression(max_iter=300).fit(X, y)
        assert kernelflow.active_run().info.run_id == active.info.run_id
    (run,) = runs()
    assert run.info.run_id == active.info.run_id and "training_score" in run.data.metrics


def test_grid_search_logs_parent_and_child_per_candidate(autolog, runs, client):
    autolog(log_models=False)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.01, 0.1, 1.0]}, cv=3).fit(X, y)
    all_runs = runs()
    parent = [r for r in all_runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in all_runs if r.data.tags.get("mlflow.parentRunId") == parent[0].info.run_id]
    assert len(parent) == 1 and len(children) == 3
    assert parent[0].data.params["best_C"] == str(search.best_params_["C"])
    assert parent[0].data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert sorted(c.data.params["C"] for c in children) == ["0.01", "0.1", "1.0"]
    assert all("mean_test_score" in c.data.metrics and "rank_test_score" in c.data.metrics for c in children)


def test_max_tuning_runs_keeps_the_best(autolog, runs):
    autolog(log_models=False, max_tuning_runs=2)
    search = RandomizedSearchCV(LogisticRegression(max_iter=300), {"C": [0.001, 0.1, 1.0, 10.0]},
                                n_iter=4, cv=3, random_state=0).fit(X, y)
    children = [r for r in runs() if "mlflow.parentRunId" in r.data.tags]
    best_two = sorted(search.cv_results_["rank_test_score"])[:2]
    assert sorted(r.data.metrics["rank_test_score"] for r in children) == best_two


def test_failing_fit_marks_the_run_failed(autolog, runs):
    autolog()
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, y.iloc[:10])
    assert runs()[0].info.status == "FAILED"


def test_logging_errors_never_break_training(autolog, tracking_uri, tmp_path):
    autolog()
    kernelflow.set_tracking_uri(f"sqlite:///{tmp_path / 'missing-folder' / 'x.db'}")
    try:
        with pytest.warns(UserWarning, match="kernelflow autolog \\(sklearn\\) could not start a run"):
            model = LogisticRegression(max_iter=300).fit(X, y)
    finally:
        kernelflow.set_tracking_uri(tracking_uri)
    assert model.score(X, y) > 0.9


def test_disable_restores_fit(autolog, runs):
    original = LogisticRegression.fit
    autolog()
    assert LogisticRegression.fit is not original
    autolog(disable=True)
    assert LogisticRegression.fit is original
    LogisticRegression(max_iter=300).fit(X, y)
    assert runs() == []


def test_unknown_framework_is_refused(autolog):
    with pytest.raises(kernelflow.InvalidParameterError, match="Unknown autolog framework 'xgb'"):
        autolog(frameworks=["xgb"])
