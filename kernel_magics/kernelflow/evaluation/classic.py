"""``kf.evaluate``: score a model on labelled data and log metrics and plots to a run."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, KernelflowError
from . import metrics as M
from . import thresholds as T
from .result import EvaluationArtifact, EvaluationResult
from .runs import evaluation_run

MODEL_TYPES = ("classifier", "regressor")


# -- the model -------------------------------------------------------------------------
class _Predictor:
    """One interface over a model URI, a loaded kernelflow model, an estimator or a function."""

    def __init__(self, model: Any) -> None:
        self.source = model
        if isinstance(model, (str, os.PathLike)):
            from ..models import load_model

            model = load_model(os.fspath(model))
        self.pyfunc = model if hasattr(model, "unwrap") else None
        native = model.unwrap() if self.pyfunc is not None else model
        self.native = native
        if not (hasattr(native, "predict") or callable(native)):
            raise InvalidParameterError(
                f"evaluate needs a model URI, a loaded model, an object with predict() or a "
                f"function; got {type(model).__name__}.")

    @property
    def classes(self):
        """The estimator's class labels (``classes_``), if it has them."""
        return getattr(self.native, "classes_", None)

    def _input(self, X):
        # estimators fitted on arrays warn about column names: give them what they saw
        if hasattr(X, "to_numpy") and hasattr(self.native, "n_features_in_") and \
                not hasattr(self.native, "feature_names_in_"):
            return X.to_numpy()
        return X

    def predict(self, X) -> np.ndarray:
        """Predictions as a 1-D (or 2-D for multi-output) array."""
        if hasattr(self.native, "predict"):  # the native estimator: no signature round-trip
            out = self.native.predict(self._input(X))
        elif self.pyfunc is not None:
            out = self.pyfunc.predict(X)
        else:
            out = self.native(X)
        if hasattr(out, "to_numpy"):
            out = out.to_numpy()
        return np.asarray(out)

    def predict_proba(self, X) -> np.ndarray | None:
        """Class probabilities when the model has ``predict_proba``, else None."""
        fn = getattr(self.native, "predict_proba", None)
        if fn is None:
            return None
        try:
            return np.asarray(fn(self._input(X)), dtype=np.float64)
        except (AttributeError, NotImplementedError):  # e.g. SVC(probability=False)
            return None

    def is_sklearn(self) -> bool:
        """Whether the model is a scikit-learn estimator (MLflow then logs ``score``)."""
        return type(self.native).__module__.startswith("sklearn.")


# -- the data --------------------------------------------------------------------------
def _frame(data: Any):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    for attr in ("df", "to_pandas", "to_df"):  # MLflow datasets, Spark-less tables
        value = getattr(data, attr, None)
        if value is not None:
            value = value() if callable(value) else value
            if isinstance(value, pd.DataFrame):
                return value
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return pd.DataFrame(data)
    return None


def split_data(data: Any, targets: Any, feature_names: list[str] | None):
    """Return ``(X, y, frame_or_None)`` from a DataFrame, a dataset or arrays."""
    frame = _frame(data)
    if frame is not None:
        if isinstance(targets, str):
            if targets not in frame.columns:
                raise InvalidParameterError(
                    f"targets={targets!r} is not a column of the data; columns: "
                    f"{', '.join(map(str, frame.columns[:20]))}.")
            y = frame[targets].to_numpy()
            cols = feature_names or [c for c in frame.columns if c != targets]
        else:
            y = _target_array(targets, len(frame))
            cols = feature_names or list(frame.columns)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidParameterError(f"feature_names not in the data: {missing}.")
        return frame[cols], y, frame
    if isinstance(data, (np.ndarray, list)):
        X = np.asarray(data)
        if X.ndim != 2:
            raise InvalidParameterError(f"data must be 2-D (rows x features), got shape {X.shape}.")
        if isinstance(targets, str):
            raise InvalidParameterError(
                "With an array as data, pass targets as an array of labels, not a column name.")
        return X, _target_array(targets, len(X)), None
    raise InvalidParameterError(
        f"data must be a DataFrame, a numpy array, a list of dicts or a dataset; "
        f"got {type(data).__name__}.")


def _target_array(targets: Any, n: int) -> np.ndarray:
    if targets is None:
        raise InvalidParameterError("evaluate needs targets: a column name or an array of labels.")
    y = np.asarray(targets.to_numpy() if hasattr(targets, "to_numpy") else targets)
    if len(y) != n:
        raise InvalidParameterError(f"targets has {len(y)} values but the data has {n} rows.")
    return y


# -- scoring ---------------------------------------------------------------------------
def _predict(predictor: _Predictor, X) -> np.ndarray:
    try:
        return predictor.predict(X)
    except KernelflowError:
        raise
    except Exception as exc:  # the model's own error, on data the user chose
        raise InvalidParameterError(
            f"The model failed to predict on the evaluation data: {type(exc).__name__}: {exc}. "
            "Check that the data has the model's features (feature_names=[...] picks them)."
        ) from exc


def compute(predictor: _Predictor, X, y, model_type: str) -> tuple[dict, dict]:
    """The metrics and the data the plots need, for one model."""
    y_pred = _predict(predictor, X)
    if model_type == "regressor":
        m = M.regressor_metrics(y, y_pred)
        if predictor.is_sklearn():
            m["score"] = m["r2_score"]
        return m, {"y": y, "y_pred": y_pred}
    if y_pred.ndim == 2:  # a function that returned probabilities
        raise InvalidParameterError(
            "The model returned a 2-D array; a classifier's predict must return one label per row.")
    proba = predictor.predict_proba(X)
    labels = predictor.classes
    if labels is None or proba is None or proba.shape[1] != len(labels):
        labels = None
    elif not np.isin(np.unique(y), labels).all():  # labels the model never saw: no proba
        labels, proba = None, None
    m, rows, curves = M.classifier_metrics(y, y_pred, proba, labels)
    if predictor.is_sklearn():
        m["score"] = m["accuracy_score"]
    return m, {"rows": rows, **curves}


def _plots(model_type: str, parts: dict, folder: str) -> dict[str, str]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        import warnings

        warnings.warn("matplotlib is not installed: kf.evaluate logs the metrics without plots "
                      "(pip install matplotlib).", stacklevel=3)
        return {}
    from . import plots

    out = {}
    if model_type == "regressor":
        out["residuals_plot"] = plots.residuals_plot(
            parts["y"], parts["y_pred"], os.path.join(folder, "residuals_plot.png"))
        return out
    out["confusion_matrix"] = plots.confusion_matrix_plot(
        parts["cm"], parts["labels"], os.path.join(folder, "confusion_matrix.png"))
    if parts["roc"]:
        out["roc_curve_plot"] = plots.curve_plot(
            parts["roc"], "roc", os.path.join(folder, "roc_curve_plot.png"))
        out["precision_recall_curve_plot"] = plots.curve_plot(
            parts["pr"], "pr", os.path.join(folder, "precision_recall_curve_plot.png"))
    return out


def _per_class_csv(rows: list[dict], folder: str) -> str:
    import csv

    path = os.path.join(folder, "per_class_metrics.csv")
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    return path


def evaluate(
    model: Any,
    data: Any,
    targets: Any = None,
    model_type: str | None = None,
    evaluators: Any = None,
    baseline_model: Any = None,
    validation_thresholds: dict | None = None,
    feature_names: list[str] | None = None,
) -> EvaluationResult:
    """Evaluate a model on labelled data and log the results into the active run (or a new one).

    Metrics carry MLflow's names (``accuracy_score``, ``f1_score``, ``roc_auc``,
    ``log_loss``, ``mean_squared_error``, ``r2_score`` ...); plots (confusion
    matrix, ROC and PR curves, residuals) and the per-class table are logged as
    artifacts.

    Args:
        model: a model URI (``models:/digits@champion``, ``runs:/<id>/model``), a model
            loaded with ``kf.load_model``, an estimator with ``predict`` or a function.
        data: a DataFrame, a 2-D array, a list of dicts or a dataset with ``.df``.
        targets: the label column's name (or, for arrays, the labels themselves).
        model_type: ``"classifier"`` or ``"regressor"``.
        evaluators: None or ``"default"`` (the built-in metrics; others are not supported).
        baseline_model: a second model scored on the same data, for comparisons.
        validation_thresholds: ``{metric: MetricThreshold(...)}``; a missed check raises.
        feature_names: the feature columns (default: every column but ``targets``).

    Returns:
        An :class:`EvaluationResult` with ``metrics``, ``artifacts`` and ``run_id``.

    Raises:
        InvalidParameterError: a bad argument (unknown model type, missing column...).
        ModelValidationFailedError: a validation threshold was missed; the message names
            each metric and by how much it missed. The metrics are logged first.
    """
    if model_type not in MODEL_TYPES:
        raise InvalidParameterError(
            f"model_type must be 'classifier' or 'regressor', got {model_type!r}.")
    if evaluators not in (None, "default", ["default"]):
        raise InvalidParameterError(
            f"evaluators={evaluators!r}: only the built-in 'default' evaluator is available.")
    limits = T.as_thresholds(validation_thresholds)
    relative = [k for k, t in limits.items()
                if t.min_absolute_change is not None or t.min_relative_change is not None]
    if relative and baseline_model is None:
        raise InvalidParameterError(
            f"Thresholds on {', '.join(relative)} use min_absolute_change/min_relative_change, "
            "which need a baseline_model; pass baseline_model=...")
    if targets is None:  # an MLflow dataset carries its label column
        targets = getattr(data, "targets", None)
    X, y, frame = split_data(data, targets, feature_names)
    if len(y) == 0:
        raise InvalidParameterError("The evaluation data has no rows.")
    metrics, parts = compute(_Predictor(model), X, y, model_type)
    baseline = None
    if baseline_model is not None:
        baseline, _ = compute(_Predictor(baseline_model), X, y, model_type)
    result = _log(metrics, parts, baseline, model_type, _dataset_input(frame, y, targets),
                  _describe(model))
    failures = T.check(metrics, limits, baseline)
    if failures:
        raise T.ModelValidationFailedError(failures, result)
    return result


def _dataset_input(frame, y, targets):
    """The evaluation data as a run input (MLflow's ``mlflow.data.context: evaluation``)."""
    import hashlib
    import json

    import pandas as pd

    from ..store.datasets import Dataset, DatasetInput

    try:
        if frame is not None:
            hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
            columns = [str(c) for c in frame.columns]
        else:
            hashed = np.ascontiguousarray(np.asarray(y))
            columns = []
    except (TypeError, ValueError):  # unhashable cells (lists, dicts): no input record
        return None
    digest = hashlib.md5(hashed.tobytes(), usedforsecurity=False).hexdigest()[:8]
    schema = json.dumps({"columns": columns, "targets": targets if isinstance(targets, str)
                         else None})
    profile = json.dumps({"num_rows": int(len(y))})
    source = json.dumps({"kind": "in-memory"})
    return DatasetInput(Dataset(f"evaluation-{digest}", digest, "code", source, schema, profile),
                        {"mlflow.data.context": "evaluation"})


def _describe(model: Any) -> str:
    """What was evaluated, for the run's ``kernelflow.evaluation.model`` tag."""
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    inner = model.unwrap() if hasattr(model, "unwrap") else model
    return getattr(inner, "__name__", None) or type(inner).__name__


def _log(metrics: dict, parts: dict, baseline: dict | None, model_type: str,
         dataset=None, model: str = "") -> EvaluationResult:
    from .. import fluent
    from ..client import default_client

    client = default_client()
    with evaluation_run("evaluation") as run_id, \
            tempfile.TemporaryDirectory(prefix="kf-eval-") as folder:
        fluent.log_metrics(metrics, run_id=run_id)
        if baseline:
            fluent.log_metrics({f"baseline_{k}": v for k, v in baseline.items()}, run_id=run_id)
        files = _plots(model_type, parts, folder)
        if model_type == "classifier":
            files["per_class_metrics"] = _per_class_csv(parts["rows"], folder)
        artifacts = {}
        for name, path in files.items():
            client.log_artifact(run_id, path)
            base = os.path.basename(path)
            artifacts[name] = EvaluationArtifact(base, client.download_artifacts(run_id, base))
        client.set_tag(run_id, "kernelflow.evaluation", model_type)
        client.set_tag(run_id, "kernelflow.evaluation.model", model[:500])
        if dataset is not None:
            client.log_inputs(run_id, [dataset])
        fluent.flush()
    return EvaluationResult(metrics, artifacts, baseline, run_id)


__all__ = ["evaluate"]
