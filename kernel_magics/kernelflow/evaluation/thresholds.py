"""Validation thresholds: absolute bounds and changes against a baseline (MLflow's shape)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InvalidParameterError, KernelflowError

_LOWER_IS_BETTER = ("error", "loss", "false_positives", "false_negatives")


@dataclass
class MetricThreshold:
    """What a metric must reach.

    Args:
        threshold: the value must be at least this (at most, when lower is better).
        min_absolute_change: the candidate must beat the baseline by at least this much.
        min_relative_change: ... or by at least this fraction of the baseline's value.
        greater_is_better: default: False for errors and losses, True otherwise.
    """

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool | None = None

    def __post_init__(self) -> None:
        if self.threshold is None and self.min_absolute_change is None and \
                self.min_relative_change is None:
            raise InvalidParameterError(
                "A MetricThreshold needs threshold, min_absolute_change or min_relative_change.")
        for name in ("min_absolute_change", "min_relative_change"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidParameterError(f"{name} must be 0 or more, got {value}.")


class ModelValidationFailedError(KernelflowError):
    """The candidate model missed one or more validation thresholds.

    ``failures`` lists one line per missed check; ``result`` is the evaluation
    result (its metrics are logged to the run before this is raised).
    """

    error_code = "MODEL_VALIDATION_FAILED"
    http_status = 400

    def __init__(self, failures: list[str], result=None) -> None:
        super().__init__("Model validation failed:\n  " + "\n  ".join(failures))
        self.failures = failures
        self.result = result


def greater_is_better(metric: str, threshold: MetricThreshold) -> bool:
    """Whether a larger value of ``metric`` is better (explicit, or guessed from its name)."""
    if threshold.greater_is_better is not None:
        return threshold.greater_is_better
    return not any(word in metric for word in _LOWER_IS_BETTER)


def as_thresholds(raw) -> dict[str, MetricThreshold]:
    """Accept ``{metric: MetricThreshold | dict | number}`` (a number is an absolute threshold)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParameterError(
            "validation_thresholds must be a dict of metric name -> MetricThreshold, "
            f"got {type(raw).__name__}.")
    out = {}
    for name, value in raw.items():
        if isinstance(value, MetricThreshold):
            out[name] = value
        elif isinstance(value, dict):
            out[name] = MetricThreshold(**value)
        elif isinstance(value, (int, float)):
            out[name] = MetricThreshold(threshold=float(value))
        else:
            raise InvalidParameterError(
                f"validation_thresholds[{name!r}] must be a MetricThreshold, a dict or a number.")
    return out


def check(metrics: dict, thresholds: dict[str, MetricThreshold],
          baseline: dict | None) -> list[str]:
    """Return one message per missed check (empty when the candidate passes all)."""
    failures = []
    for name, t in thresholds.items():
        if name not in metrics:
            known = ", ".join(sorted(metrics))
            failures.append(f"{name}: not computed by this evaluation (metrics: {known})")
            continue
        value = float(metrics[name])
        gib = greater_is_better(name, t)
        sign = 1.0 if gib else -1.0
        if t.threshold is not None:
            missed = sign * (t.threshold - value)
            if missed > 0 or math.isnan(value):
                op = ">=" if gib else "<="
                failures.append(f"{name}={value:.6g} is not {op} threshold {t.threshold:g} "
                                f"(missed by {abs(missed):.6g})")
        if t.min_absolute_change is None and t.min_relative_change is None:
            continue
        if baseline is None or name not in baseline:
            failures.append(f"{name}: min_absolute_change/min_relative_change need a "
                            "baseline_model; pass baseline_model=...")
            continue
        base = float(baseline[name])
        gain = sign * (value - base)
        if t.min_absolute_change is not None and gain < t.min_absolute_change:
            failures.append(f"{name}={value:.6g} vs baseline {base:.6g}: change {gain:+.6g} is "
                            f"below min_absolute_change {t.min_absolute_change:g} "
                            f"(missed by {t.min_absolute_change - gain:.6g})")
        if t.min_relative_change is not None:
            rel = gain / abs(base) if base else (math.inf if gain > 0 else 0.0)
            if rel < t.min_relative_change:
                failures.append(f"{name}={value:.6g} vs baseline {base:.6g}: relative change "
                                f"{rel:+.4%} is below min_relative_change "
                                f"{t.min_relative_change:.4%} (missed by "
                                f"{t.min_relative_change - rel:.4%})")
    return failures
