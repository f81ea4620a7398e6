"""``PythonModel``: wrap any Python code (and its files) as a kernelflow model."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PythonModelContext:
    """What ``PythonModel.load_context`` and ``predict`` receive.

    Attributes:
        artifacts: Artifact name -> absolute local path of the copy stored
            with the model.
        model_config: The ``model_config`` dict given at save time.
    """

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class for custom models, as MLflow's ``mlflow.pyfunc.PythonModel``.

    Subclass it, implement :meth:`predict`, and optionally :meth:`load_context`
    to read files passed as ``artifacts=`` when saving::

        class Echo(kernelflow.PythonModel):
            def load_context(self, context):
                self.prefix = open(context.artifacts["prefix"]).read()

            def predict(self, context, model_input, params=None):
                return [self.prefix + str(x) for x in model_input["text"]]
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Prepare the model after loading (read artifacts, open resources)."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict | None = None) -> Any:
        """Return predictions for ``model_input`` (``context`` may be omitted in subclasses)."""
        raise NotImplementedError(
            f"{type(self).__qualname__} must implement predict(self, context, model_input, params=None)."
        )


def call_predict(
    fn: Callable[..., Any], context: PythonModelContext | None, data: Any, params: dict | None
) -> Any:
    """Call a predict method or function with the arguments it declares.

    Accepts ``predict(context, model_input, params=None)`` (MLflow 2),
    ``predict(model_input, params=None)`` (MLflow 3) and ``f(model_input)``.
    """
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # builtins without a signature
        names = ["model_input"]
    args: list[Any] = [data]
    if context is not None and (names[:1] == ["context"] or len(names) >= 3):
        args.insert(0, context)
    if "params" in names:
        return fn(*args, params=params)
    if params and len(names) > len(args):
        return fn(*args, params)
    return fn(*args)
