"""MLflow's validation rules for keys and values."""

from __future__ import annotations

import numbers
import re

from .errors import InvalidParameterError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
_KEY_RE = re.compile(r"^[/\w.\- ]*$")
_valid_keys: set[str] = set()
# Metric points are stored as float64 triples, exact for whole numbers up to 2**53.
MAX_EXACT_INT = 2**53


def check_key(key, what: str = "key") -> str:
    """Raise InvalidParameterError unless ``key`` is a valid metric/param/tag name."""
    if type(key) is str and key in _valid_keys:
        return key
    if not isinstance(key, str) or not key:
        raise InvalidParameterError(f"The {what} must be a non-empty string, got {key!r}.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameterError(
            f"The {what} {key[:40]!r}... is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}."
        )
    if not _KEY_RE.match(key) or ".." in key.split("/") or key.startswith("/"):
        raise InvalidParameterError(
            f"Invalid {what} {key!r}: names may contain only letters, digits, underscores, "
            "dashes, periods, spaces and slashes, and may not start with / or contain '..'."
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def check_metric_value(key: str, value) -> float:
    """Return ``value`` as a float; NaN and inf are allowed, non-numbers are not."""
    if type(value) is float or type(value) is int:
        return float(value)
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return float(value)  # type: ignore[arg-type]  # numpy scalars, bools
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # 0-d arrays, tensors
        try:
            return check_metric_value(key, value.item())
        except InvalidParameterError:
            pass
    raise InvalidParameterError(
        f"Metric {key!r} got {value!r} ({type(value).__name__}); metric values must be numbers. "
        "Log text with set_tag() or log_param() instead."
    )


def _whole_number(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float)) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise InvalidParameterError(f"The {what} must be a whole number, got {value!r}.")
    number = int(value)
    if not -MAX_EXACT_INT <= number <= MAX_EXACT_INT:
        raise InvalidParameterError(
            f"The {what} {number} is out of range: kernelflow keeps whole numbers up to 2**53 "
            f"({MAX_EXACT_INT:,}) exactly."
        )
    return number


def check_step(step) -> int:
    """Return ``step`` as an int (None is step 0); it must be a whole number within ±2**53."""
    if type(step) is int and -MAX_EXACT_INT <= step <= MAX_EXACT_INT:
        return step
    if step is None:
        return 0
    return _whole_number(step, "metric step")


def check_timestamp(timestamp, what: str = "timestamp") -> int:
    """Return a millisecond timestamp as an int; it must be a whole number within ±2**53."""
    if type(timestamp) is int and 0 <= timestamp <= MAX_EXACT_INT:
        return timestamp
    return _whole_number(timestamp, f"{what} (milliseconds since the epoch)")


RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


def check_run_status(status: str) -> str:
    """Raise InvalidParameterError unless ``status`` is one of MLflow's run statuses."""
    if status not in RUN_STATUSES:
        raise InvalidParameterError(
            f"Run status {status!r} is not valid; use one of {', '.join(RUN_STATUSES)}."
        )
    return status


def check_param_value(key: str, value) -> str:
    """Return ``value`` as a string within MLflow's length limit."""
    text = str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidParameterError(
            f"Param {key!r} has a value of {len(text)} characters; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH}. Log long text as an artifact with log_text()."
        )
    return text


def check_tag_value(key: str, value) -> str:
    """Return ``value`` as a string within the tag length limit."""
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameterError(
            f"Tag {key!r} has a value of {len(text)} characters; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}. Log long text as an artifact with log_text()."
        )
    return text


# MLflow's log_batch limits.
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000


def check_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    """MLflow's log-batch limits (the SDK and the REST server both check them).

    Raises:
        InvalidParameterError: with MLflow's wording, saying to split the batch.
    """
    for what, n, limit in (("metrics", n_metrics, MAX_BATCH_METRICS),
                           ("params", n_params, MAX_BATCH_PARAMS),
                           ("tags", n_tags, MAX_BATCH_TAGS)):
        if n > limit:
            raise InvalidParameterError(
                f"A batch logging request can contain at most {limit} {what}. "
                f"Got {n} {what}. Please split up {what} across multiple requests and try again."
            )
    if n_metrics + n_params + n_tags > MAX_BATCH_TOTAL:
        raise InvalidParameterError(
            f"A batch logging request can contain at most {MAX_BATCH_TOTAL} metrics, params and "
            f"tags in total. Got {n_metrics + n_params + n_tags}. Please split it up."
        )
