"""Keras 3 autolog: a callback that logs params, per-epoch metrics and the model.

Use it explicitly (``model.fit(..., callbacks=[kernelflow.keras.KernelflowCallback()])``)
or let ``kernelflow.autolog()`` add it to every ``Model.fit``.
"""

from __future__ import annotations

import functools
from typing import Any

from .hooks import patch, unpatch, when_imported
from .session import AutologRun

FRAMEWORK = "keras"
_options: dict[str, Any] = {"enabled": False, "log_models": True, "log_input_examples": True}
_patched: dict[type, Any] = {}  # keras.Model -> its own fit before patching (None if inherited)
_callback_class: list[type] = []


def enable(
    log_models: bool = True, log_input_examples: bool = True, disable: bool = False, **_: Any
) -> None:
    """Turn Keras autologging on (or off with ``disable=True``).

    Args:
        log_models: Log the trained model as the run's ``model``.
        log_input_examples: Store the first rows of ``x`` with the model.
        disable: Turn autologging off and restore ``Model.fit``.
    """
    _options.update(enabled=not disable, log_models=log_models, log_input_examples=log_input_examples)
    if disable:
        unpatch(_patched)
    else:
        when_imported("keras", lambda _module: _patch())


def _patch() -> None:
    from ..models.flavors.keras import import_keras

    patch(import_keras().Model, _wrap, _patched)


def _wrap(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.get("callbacks") or [])
        cls = callback_class()
        if not _options["enabled"] or any(isinstance(c, cls) for c in callbacks):
            return original(self, *args, **kwargs)
        x = args[0] if args else kwargs.get("x")
        callback = cls(log_models=_options["log_models"], input_example=_example(x))
        kwargs["callbacks"] = [*callbacks, callback]
        try:
            return original(self, *args, **kwargs)
        except BaseException:
            callback.end_failed()
            raise

    return fit


def _example(x: Any) -> Any:
    if not _options["log_input_examples"] or x is None:
        return None
    try:
        return x[:5]
    except Exception:  # a generator or dataset: the model is logged without an example
        return None


def callback_class() -> type:
    """The ``KernelflowCallback`` class (built on first use, as it subclasses keras')."""
    if not _callback_class:
        _callback_class.append(_build_callback_class())
    return _callback_class[0]


def _build_callback_class() -> type:
    from ..models.flavors.keras import import_keras

    keras = import_keras()

    class KernelflowCallback(keras.callbacks.Callback):  # type: ignore[name-defined]
        """Logs fit params, each epoch's metrics (step = epoch) and the trained model.

        Args:
            log_models: Log the model when training ends.
            input_example: A few input rows stored with the model.
        """

        def __init__(self, log_models: bool = True, input_example: Any = None) -> None:
            super().__init__()
            self.log_models, self.input_example = log_models, input_example
            self.run: AutologRun | None = None

        def on_train_begin(self, logs: dict | None = None) -> None:
            self.run = AutologRun.start(FRAMEWORK, self.model.name, lambda: _fit_params(self, keras))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if self.run is not None:
                self.run.record(logs or {}, step=epoch)

        def on_train_end(self, logs: dict | None = None) -> None:
            run, self.run = self.run, None
            if run is not None:
                run.finish(self.model if self.log_models else None, self.input_example)

        def end_failed(self) -> None:
            """End the run as FAILED (fit raised before on_train_end)."""
            run, self.run = self.run, None
            if run is not None:
                run.fail()

    return KernelflowCallback


def _fit_params(callback: Any, keras: Any) -> dict[str, Any]:
    model, opt = callback.model, callback.model.optimizer
    params = {k: v for k, v in (callback.params or {}).items() if k in ("epochs", "steps", "batch_size")}
    params["optimizer_name"] = type(opt).__name__ if opt is not None else None
    if opt is not None:
        params["learning_rate"] = float(keras.ops.convert_to_numpy(opt.learning_rate))
    params["total_params"] = model.count_params()
    return params


def __getattr__(name: str) -> Any:
    if name == "KernelflowCallback":
        return callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
