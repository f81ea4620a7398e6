"""Classic model evaluation: ``kf.evaluate`` with MLflow's metric names, plots and thresholds.

``kf.evaluate(model, data, targets="label", model_type="classifier")`` predicts,
computes the metrics in numpy (values equal scikit-learn's), logs them with the
confusion matrix, ROC and precision-recall curves (or residuals for regressors)
and a per-class table into the active run, and returns an :class:`EvaluationResult`.
``validation_thresholds`` with a ``baseline_model`` gate a candidate model.
matplotlib and scikit-learn are imported only when an evaluation runs.
"""

from __future__ import annotations

from .classic import evaluate
from .result import EvaluationArtifact, EvaluationResult
from .thresholds import MetricThreshold, ModelValidationFailedError

__all__ = ["evaluate", "EvaluationResult", "EvaluationArtifact", "MetricThreshold",
           "ModelValidationFailedError"]
