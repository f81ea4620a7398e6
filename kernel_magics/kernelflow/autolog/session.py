"""What every autolog integration shares: a run to log into, and never breaking training."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
logger = logging.getLogger("kernelflow.autolog")
MAX_PARAM_LENGTH = 6000


def safely(framework: str, what: str, fn: Callable[[], T], default: Any = None) -> T | Any:
    """Run ``fn``; on any error warn and return ``default`` (autolog never breaks training)."""
    try:
        return fn()
    except Exception as exc:
        warnings.warn(
            f"kernelflow autolog ({framework}) could not {what}: {type(exc).__name__}: {exc}. "
            "Training continues; pass disable=True to turn autologging off.",
            stacklevel=3,
        )
        return default


class AutologRun:
    """The run autolog writes to: the active run, or one it starts and ends itself.

    Integrations use :meth:`start`, :meth:`record`, :meth:`finish` and
    :meth:`fail`, which turn any error into a warning, so training goes on.
    """

    def __init__(self, framework: str, run_name: str | None = None) -> None:
        from .. import fluent

        self.framework = framework
        active = fluent.active_run()
        self.owned = active is None
        run = fluent.start_run(run_name=run_name) if active is None else active
        self.run_id = run.info.run_id
        self.experiment_id = run.info.experiment_id
        if self.owned:
            self.set_tags({"kernelflow.autolog": framework})

    @classmethod
    def start(
        cls, framework: str, run_name: str | None = None,
        params: Callable[[], dict[str, Any]] | None = None,
    ) -> AutologRun | None:
        """Start (or join) a run and log ``params()``; None when no run could be had."""
        run = safely(framework, "start a run", lambda: cls(framework, run_name))
        if run is not None and params is not None:
            safely(framework, "log params", lambda: run.log_params(params()))
        return run

    def record(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Log metrics; an error is a warning."""
        safely(self.framework, "log metrics", lambda: self.log_metrics(metrics, step=step))

    def finish(self, model: Any = None, input_example: Any = None) -> None:
        """Log ``model`` (unless None) and end the run; errors are warnings."""
        if model is not None:
            safely(self.framework, "log the model", lambda: self.log_model(model, input_example))
        safely(self.framework, "end the run", self.end)

    def fail(self) -> None:
        """End the run as FAILED (training raised); an error is a warning."""
        safely(self.framework, "end the run", lambda: self.end(failed=True))

    def log_params(self, params: dict[str, Any]) -> None:
        """Log params as strings, 100 at a time (MLflow's batch limit)."""
        from ..client import default_client
        from ..entities import Param

        items = [Param(str(k), _param_str(v)) for k, v in params.items()]
        client = default_client()
        for i in range(0, len(items), 100):
            client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Log finite numeric metrics (tensors and numpy scalars included)."""
        from ..client import default_client

        client = default_client()
        for key, value in metrics.items():
            number = to_float(value)
            if number is not None:
                client.log_metric(self.run_id, key, number, step=step or 0)

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set run tags."""
        from ..client import default_client
        from ..entities import RunTag

        default_client().log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_model(self, model: Any, input_example: Any = None, **kwargs: Any) -> Any:
        """Log the trained model as ``model`` in this run."""
        from ..models import log_model

        return log_model(model, "model", input_example=input_example, run_id=self.run_id, **kwargs)

    def log_child(self, run_name: str, params: dict[str, Any], metrics: dict[str, Any]) -> None:
        """Log a finished child run under this one (a tuning candidate, say)."""
        from ..client import default_client
        from ..entities import Metric, Param

        client = default_client()
        child = client.create_run(
            self.experiment_id, run_name=run_name, parent_run_id=self.run_id,
            tags={"kernelflow.autolog": self.framework},
        )
        numbers = {k: to_float(v) for k, v in metrics.items()}
        client.log_batch(
            child.info.run_id,
            metrics=[Metric(k, v, child.info.start_time or 0, 0) for k, v in numbers.items() if v is not None],
            params=[Param(str(k), _param_str(v)) for k, v in params.items()],
        )
        client.set_terminated(child.info.run_id)

    def end(self, failed: bool = False) -> None:
        """End the run if autolog started it."""
        from .. import fluent

        if self.owned:
            fluent.end_run("FAILED" if failed else "FINISHED", run_id=self.run_id)


def to_float(value: Any) -> float | None:
    """A Python float from a number, numpy scalar or one-element tensor; None otherwise."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    try:
        if hasattr(value, "item"):
            value = value.item()
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        return None


def _param_str(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 3] + "..."
