"""scikit-learn autolog: every ``fit`` logs params, training metrics and the model.

``GridSearchCV`` / ``RandomizedSearchCV`` log a parent run with the best
params and score, and one child run per candidate. Nested fits (a pipeline's
steps, a search's candidates) are not logged on their own.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from .hooks import patch, unpatch, when_imported
from .session import AutologRun, safely

FRAMEWORK = "sklearn"
_options: dict[str, Any] = {"enabled": False}
# One process-wide flag, not per thread: a search's inner fits may run in joblib threads.
_busy = threading.Lock()
_patched: dict[type, Any] = {}  # class -> its own fit before patching (None if inherited)


def enable(
    log_models: bool = True,
    log_input_examples: bool = True,
    max_tuning_runs: int | None = None,
    disable: bool = False,
    **_: Any,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    Args:
        log_models: Log the fitted estimator as the run's ``model``.
        log_input_examples: Store the first rows of X with the model.
        max_tuning_runs: Child runs per search, best ranked first (None: all).
        disable: Turn autologging off and restore the original ``fit`` methods.
    """
    _options.update(
        enabled=not disable, log_models=log_models,
        log_input_examples=log_input_examples, max_tuning_runs=max_tuning_runs,
    )
    if disable:
        unpatch(_patched)
    else:
        when_imported("sklearn", lambda _module: _patch())


def _estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()]
    return [*classes, Pipeline, GridSearchCV, RandomizedSearchCV]


def _patch() -> None:
    for cls in _estimator_classes():
        patch(cls, _wrap, _patched)


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _options["enabled"] or not _busy.acquire(blocking=False):
            return original(self, *args, **kwargs)  # a fit inside a logged fit
        try:
            return _logged_fit(original, self, args, kwargs)
        finally:
            _busy.release()

    return fit


def _logged_fit(original: Any, estimator: Any, args: tuple, kwargs: dict) -> Any:
    run = AutologRun.start(FRAMEWORK, type(estimator).__name__)
    if run is None:
        return original(estimator, *args, **kwargs)
    safely(FRAMEWORK, "log params", lambda: _log_start(run, estimator))
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException:
        run.fail()
        raise
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    safely(FRAMEWORK, "log training metrics", lambda: run.log_metrics(training_metrics(estimator, X, y)))
    if hasattr(estimator, "cv_results_"):
        safely(FRAMEWORK, "log the search's candidates", lambda: _log_search(run, estimator))
    run.finish(estimator if _options["log_models"] else None, _example(X))
    return result


def _log_start(run: AutologRun, estimator: Any) -> None:
    run.log_params(estimator.get_params(deep=True))
    cls = type(estimator)
    run.set_tags({"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"})


def _example(X: Any) -> Any:
    if not _options["log_input_examples"] or X is None or hasattr(X, "tocsr"):
        return None  # sparse matrices are not stored as examples
    return X[:5] if not hasattr(X, "iloc") else X.iloc[:5]


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Metrics of a fitted estimator on its training data (MLflow's ``training_*`` names)."""
    if X is None or y is None or not hasattr(estimator, "predict"):
        return {}
    from sklearn.base import is_classifier, is_regressor

    metrics: dict[str, float] = {}
    if hasattr(estimator, "score"):
        metrics["training_score"] = safely(FRAMEWORK, "score", lambda: estimator.score(X, y))
    y_pred = estimator.predict(X)
    if is_classifier(estimator):
        metrics.update(_classifier_metrics(estimator, X, y, y_pred))
    elif is_regressor(estimator):
        metrics.update(_regressor_metrics(y, y_pred))
    return {k: v for k, v in metrics.items() if v is not None}


def _classifier_metrics(estimator: Any, X: Any, y: Any, y_pred: Any) -> dict[str, Any]:
    from sklearn import metrics as m

    out: dict[str, Any] = {
        "training_accuracy_score": m.accuracy_score(y, y_pred),
        "training_precision_score": m.precision_score(y, y_pred, average="weighted", zero_division=0),
        "training_recall_score": m.recall_score(y, y_pred, average="weighted", zero_division=0),
        "training_f1_score": m.f1_score(y, y_pred, average="weighted", zero_division=0),
    }
    if hasattr(estimator, "predict_proba"):
        proba = safely(FRAMEWORK, "predict probabilities", lambda: estimator.predict_proba(X))
        if proba is not None:
            out["training_log_loss"] = m.log_loss(y, proba, labels=estimator.classes_)
            scores = proba[:, 1] if proba.shape[1] == 2 else proba
            out["training_roc_auc"] = safely(
                FRAMEWORK, "compute ROC AUC",
                lambda: m.roc_auc_score(y, scores, multi_class="ovr", labels=estimator.classes_),
            )
    return out


def _regressor_metrics(y: Any, y_pred: Any) -> dict[str, Any]:
    from sklearn import metrics as m

    mse = m.mean_squared_error(y, y_pred)
    return {
        "training_mean_squared_error": mse,
        "training_root_mean_squared_error": mse**0.5,
        "training_mean_absolute_error": m.mean_absolute_error(y, y_pred),
        "training_r2_score": m.r2_score(y, y_pred),
    }


def _log_search(run: AutologRun, search: Any) -> None:
    """Best params/score on the parent; one child run per candidate, best first."""
    run.log_params({f"best_{k}": v for k, v in search.best_params_.items()})
    run.log_metrics({"best_cv_score": search.best_score_})
    results = search.cv_results_
    ranks = results.get("rank_test_score", list(range(1, len(results["params"]) + 1)))
    order = sorted(range(len(results["params"])), key=lambda i: ranks[i])
    limit = _options.get("max_tuning_runs")
    for i in order[:limit] if limit is not None else order:
        _log_candidate(run, search, results, i)


def _log_candidate(run: AutologRun, search: Any, results: dict, i: int) -> None:
    metrics = {k: v[i] for k, v in results.items() if k.startswith(("mean_", "std_", "rank_"))}
    run.log_child(f"{type(search.estimator).__name__}-{i}", results["params"][i], metrics)
