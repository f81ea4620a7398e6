"""kf.evaluate: metric values against scikit-learn's own functions, artifacts, runs, thresholds."""

from __future__ import annotations

import csv
import os

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import metrics as skm  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

import kernelflow as kf  # noqa: E402
from kernelflow.evaluation import MetricThreshold, ModelValidationFailedError  # noqa: E402


def _frame(X, y, target="label"):
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df[target] = y
    return df


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(3000, 6, n_informative=4, random_state=1)
    return _frame(X, y), LogisticRegression(max_iter=500).fit(X, y), X, y


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(3000, 6, n_informative=4, n_classes=4, random_state=2)
    labels = np.array(["ant", "bee", "cat", "dog"])[y]  # string labels, not 0..k-1
    return _frame(X, labels), LogisticRegression(max_iter=800).fit(X, labels), X, labels


def test_binary_metrics_equal_sklearn(tracking_uri, binary):
    df, model, X, y = binary
    r = kf.evaluate(model, df, targets="label", model_type="classifier")
    pred, proba = model.predict(X), model.predict_proba(X)[:, 1]
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    expected = {
        "accuracy_score": skm.accuracy_score(y, pred),
        "precision_score": skm.precision_score(y, pred),
        "recall_score": skm.recall_score(y, pred),
        "f1_score": skm.f1_score(y, pred),
        "log_loss": skm.log_loss(y, model.predict_proba(X)),
        "roc_auc": skm.roc_auc_score(y, proba),
        "precision_recall_auc": skm.average_precision_score(y, proba),
        "true_negatives": tn, "false_positives": fp, "false_negatives": fn, "true_positives": tp,
        "example_count": len(y), "score": model.score(X, y),
    }
    for name, value in expected.items():
        assert r.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_multiclass_weighted_and_macro_equal_sklearn(tracking_uri, multiclass):
    df, model, X, y = multiclass
    r = kf.evaluate(model, df, targets="label", model_type="classifier")
    pred, proba = model.predict(X), model.predict_proba(X)
    for name, fn in (("precision_score", skm.precision_score), ("recall_score", skm.recall_score),
                     ("f1_score", skm.f1_score)):
        assert r.metrics[name] == pytest.approx(fn(y, pred, average="weighted"))
        assert r.metrics[f"{name}_macro"] == pytest.approx(fn(y, pred, average="macro"))
    assert r.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=model.classes_))
    assert r.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted", labels=model.classes_))
    assert r.metrics["roc_auc_macro"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=model.classes_))


def test_per_class_table_and_plots_are_logged(tracking_uri, multiclass):
    df, model, X, y = multiclass
    r = kf.evaluate(model, df, targets="label", model_type="classifier")
    assert set(r.artifacts) == {"confusion_matrix", "roc_curve_plot",
                                "precision_recall_curve_plot", "per_class_metrics"}
    for art in r.artifacts.values():
        assert os.path.getsize(art.local_path) > 0
    for name in ("confusion_matrix", "roc_curve_plot", "precision_recall_curve_plot"):
        assert r.artifacts[name].content()[:8] == b"\x89PNG\r\n\x1a\n"
    listed = {f.path for f in kf.Client().list_artifacts(r.run_id)}
    assert {"confusion_matrix.png", "per_class_metrics.csv"} <= listed
    with open(r.artifacts["per_class_metrics"].local_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [row["positive_class"] for row in rows] == ["ant", "bee", "cat", "dog"]
    pred = model.predict(X)
    bee = rows[1]
    assert float(bee["recall_score"]) == pytest.approx(skm.recall_score(y == "bee", pred == "bee"))
    assert float(bee["roc_auc"]) == pytest.approx(
        skm.roc_auc_score(y == "bee", model.predict_proba(X)[:, 1]))


def test_regressor_metrics_equal_sklearn_and_residuals_plot(tracking_uri):
    X, y = make_regression(2000, 5, noise=10.0, random_state=3)
    model = LinearRegression().fit(X[:1000], y[:1000])
    r = kf.evaluate(model, _frame(X, y, "y"), targets="y", model_type="regressor")
    pred = model.predict(X)
    expected = {
        "mean_absolute_error": skm.mean_absolute_error(y, pred),
        "mean_squared_error": skm.mean_squared_error(y, pred),
        "root_mean_squared_error": skm.root_mean_squared_error(y, pred),
        "r2_score": skm.r2_score(y, pred),
        "max_error": skm.max_error(y, pred),
        "mean_absolute_percentage_error": skm.mean_absolute_percentage_error(y, pred),
        "sum_on_target": y.sum(), "mean_on_target": y.mean(), "example_count": len(y),
    }
    for name, value in expected.items():
        assert r.metrics[name] == pytest.approx(value, rel=1e-9), name
    assert list(r.artifacts) == ["residuals_plot"]


def test_metrics_land_in_a_new_run_or_the_active_one(tracking_uri, binary):
    df, model, _, _ = binary
    r = kf.evaluate(model, df, targets="label", model_type="classifier")
    run = kf.get_run(r.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["accuracy_score"] == pytest.approx(r.metrics["accuracy_score"])
    with kf.start_run() as active:
        inside = kf.evaluate(model, df, targets="label", model_type="classifier")
    assert inside.run_id == active.info.run_id
    (used,) = kf.Client().get_run_inputs(r.run_id)
    assert used.tags == {"mlflow.data.context": "evaluation"}
    assert '"num_rows": 3000' in used.dataset.profile


def test_model_uri_array_data_and_callables(tracking_uri, binary):
    df, model, X, y = binary
    with kf.start_run():
        info = kf.log_model(model, "model")
    by_uri = kf.evaluate(info.model_uri, df, targets="label", model_type="classifier")
    assert kf.get_run(by_uri.run_id).data.tags["kernelflow.evaluation.model"] == info.model_uri
    by_array = kf.evaluate(kf.load_model(info.model_uri), X, targets=y, model_type="classifier")
    by_fn = kf.evaluate(lambda frame: model.predict(frame.to_numpy()), df, targets="label",
                        model_type="classifier")
    assert by_uri.metrics["accuracy_score"] == by_array.metrics["accuracy_score"] == \
        by_fn.metrics["accuracy_score"]
    assert "roc_auc" in by_uri.metrics and "roc_auc" not in by_fn.metrics  # no probabilities
    small = LogisticRegression().fit(X[:, :2], y)
    subset = kf.evaluate(small, df, targets="label", model_type="classifier",
                         feature_names=["f0", "f1"])
    assert subset.metrics["example_count"] == len(y)


def test_labels_the_model_never_saw(tracking_uri, binary):
    df, model, X, y = binary
    y3 = y.copy()
    y3[:10] = 7  # a class the model cannot predict
    r = kf.evaluate(model, X, targets=y3, model_type="classifier")
    pred = model.predict(X)
    assert r.metrics["accuracy_score"] == pytest.approx(skm.accuracy_score(y3, pred))
    assert r.metrics["f1_score"] == pytest.approx(skm.f1_score(y3, pred, average="weighted"))
    assert "log_loss" not in r.metrics


@pytest.mark.mlflow
def test_an_mlflow_dataset_as_data(tracking_uri, binary):
    mlflow = pytest.importorskip("mlflow")
    df, model, X, y = binary
    dataset = mlflow.data.from_pandas(df, targets="label", name="binary")
    r = kf.evaluate(model, dataset, model_type="classifier")
    assert r.metrics["accuracy_score"] == pytest.approx(model.score(X, y))


def test_thresholds_pass(tracking_uri, binary):
    df, model, X, y = binary
    baseline = DummyClassifier(strategy="most_frequent").fit(X, y)
    r = kf.evaluate(model, df, targets="label", model_type="classifier", baseline_model=baseline,
                    validation_thresholds={
                        "accuracy_score": MetricThreshold(threshold=0.7, min_absolute_change=0.05),
                        "log_loss": MetricThreshold(threshold=0.9),
                    })
    assert r.baseline_model_metrics["accuracy_score"] == pytest.approx(max(y.mean(), 1 - y.mean()))
    assert kf.get_run(r.run_id).data.metrics["baseline_accuracy_score"] == \
        pytest.approx(r.baseline_model_metrics["accuracy_score"])


def test_thresholds_fail_naming_each_metric_and_the_miss(tracking_uri, binary):
    df, model, X, y = binary
    baseline = LogisticRegression(max_iter=500).fit(X, y)  # the same model: no improvement
    with pytest.raises(ModelValidationFailedError) as info:
        kf.evaluate(model, df, targets="label", model_type="classifier", baseline_model=baseline,
                    validation_thresholds={
                        "accuracy_score": MetricThreshold(threshold=0.99),
                        "f1_score": MetricThreshold(min_relative_change=0.05),
                        "log_loss": {"threshold": 0.01},
                        "roc_auc": 0.5,  # passes
                    })
    err = info.value
    assert len(err.failures) == 3
    message = str(err)
    acc = err.result.metrics["accuracy_score"]
    assert f"accuracy_score={acc:.6g} is not >= threshold 0.99 (missed by {0.99 - acc:.6g})" \
        in message
    assert "f1_score" in message and "min_relative_change 5.0000%" in message
    assert "log_loss" in message and "<= threshold 0.01" in message
    assert "roc_auc" not in message
    assert kf.get_run(err.result.run_id).data.metrics["accuracy_score"] == pytest.approx(acc)


def test_clear_errors(tracking_uri, binary):
    df, model, _, _ = binary
    with pytest.raises(kf.InvalidParameterError, match="model_type"):
        kf.evaluate(model, df, targets="label", model_type="ranker")
    with pytest.raises(kf.InvalidParameterError, match="not a column"):
        kf.evaluate(model, df, targets="nope", model_type="classifier")
    with pytest.raises(kf.InvalidParameterError, match="need a baseline_model"):
        kf.evaluate(model, df, targets="label", model_type="classifier",
                    validation_thresholds={"f1_score": MetricThreshold(min_absolute_change=0.1)})
    with pytest.raises(kf.InvalidParameterError, match="threshold"):
        MetricThreshold()
    with pytest.raises(kf.InvalidParameterError, match="failed to predict.*feature_names"):
        kf.evaluate(model, df, targets="label", model_type="classifier", feature_names=["f0"])


def test_html_shows_metrics_and_images(tracking_uri, binary):
    df, model, _, _ = binary
    html = kf.evaluate(model, df, targets="label", model_type="classifier")._repr_html_()
    assert "accuracy_score" in html and html.count("data:image/png;base64,") == 3
