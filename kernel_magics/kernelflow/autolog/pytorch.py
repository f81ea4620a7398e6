"""PyTorch autolog: a Lightning callback, and ``LoopLogger`` for plain training loops.

With ``lightning`` installed, ``kernelflow.autolog()`` adds the callback to
every ``Trainer.fit``. A hand-written loop logs with a :class:`LoopLogger`::

    with LoopLogger(model, params={"lr": 0.01}, input_example=x[:5]) as log:
        for epoch in range(10):
            for xb, yb in loader:
                loss = train_step(xb, yb)
                log.step(loss=loss)          # logged at each global step
            log.epoch(val_acc=evaluate())    # epoch means of step metrics, plus these
    # the model is logged when the block ends without an error
"""

from __future__ import annotations

import functools
from typing import Any

from .hooks import patch, unpatch, when_imported
from .session import AutologRun, safely, to_float

FRAMEWORK = "pytorch"
LIGHTNING_MODULES = ("lightning.pytorch", "pytorch_lightning")
_options: dict[str, Any] = {"enabled": False, "log_models": True, "log_input_examples": True}
_patched: dict[type, Any] = {}  # Trainer -> its own fit before patching
_callback_class: list[type] = []


class LoopLogger:
    """Logs a plain PyTorch loop: step metrics, epoch means, params, and the final model.

    Args:
        model: The ``nn.Module`` to log when the loop ends (None: no model).
        params: Hyperparameters to log at the start.
        log_every_n_steps: Log step metrics every n steps (epoch means use all).
        input_example: A few input rows, stored with the model; without one,
            the model is saved with TorchScript.
        log_model: Log the model when the ``with`` block ends without error.
        run_name: Name of the run started when none is active.
    """

    def __init__(
        self,
        model: Any = None,
        params: dict[str, Any] | None = None,
        log_every_n_steps: int = 1,
        input_example: Any = None,
        log_model: bool = True,
        run_name: str | None = None,
    ) -> None:
        self.model, self.params, self.input_example = model, params or {}, input_example
        self.log_every_n_steps = max(1, int(log_every_n_steps))
        self.log_model, self.run_name = log_model, run_name
        self.global_step = 0
        self.current_epoch = 0
        self._sums: dict[str, list[float]] = {}
        self.run: AutologRun | None = None

    def __enter__(self) -> LoopLogger:
        self.run = AutologRun.start(FRAMEWORK, self.run_name, self._start_params)
        return self

    def _start_params(self) -> dict[str, Any]:
        out = dict(self.params)
        if self.model is not None:
            out.setdefault("model_class", type(self.model).__name__)
            out.setdefault("trainable_params", sum(p.numel() for p in self.model.parameters() if p.requires_grad))
        return out

    def step(self, **metrics: Any) -> None:
        """Record one training step's metrics (tensors are fine; no ``.item()`` needed)."""
        values = {k: v for k, v in ((k, to_float(v)) for k, v in metrics.items()) if v is not None}
        for key, value in values.items():
            self._sums.setdefault(key, []).append(value)
        self.global_step += 1
        if self.run is not None and self.global_step % self.log_every_n_steps == 0:
            self.run.record(values, step=self.global_step)

    def epoch(self, **metrics: Any) -> None:
        """End an epoch: log the means of its step metrics as ``epoch_<name>`` and ``metrics``."""
        means = {f"epoch_{k}": sum(v) / len(v) for k, v in self._sums.items() if v}
        self._sums.clear()
        if self.run is not None:
            self.run.record({**means, **metrics}, step=self.current_epoch)
        self.current_epoch += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        run, self.run = self.run, None
        if run is not None and exc_type is not None:
            run.fail()
        elif run is not None:
            run.finish(self.model if self.log_model else None, self.input_example)


def enable(
    log_models: bool = True, log_input_examples: bool = True, disable: bool = False, **_: Any
) -> None:
    """Turn Lightning autologging on (or off with ``disable=True``).

    Plain loops are not patched; use :class:`LoopLogger` for them.
    """
    _options.update(enabled=not disable, log_models=log_models, log_input_examples=log_input_examples)
    if disable:
        unpatch(_patched)
        return
    for name in LIGHTNING_MODULES:
        when_imported(name, _patch)


def _patch(module: Any) -> None:
    patch(module.Trainer, lambda fit: _wrap_fit(fit, module), _patched)


def _wrap_fit(original: Any, module: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        cls = callback_class(module)
        if _options["enabled"] and not any(isinstance(c, cls) for c in self.callbacks):
            self.callbacks.append(cls(log_models=_options["log_models"]))
        return original(self, *args, **kwargs)

    return fit


def lightning_callback(**kwargs: Any) -> Any:
    """A new Lightning callback that logs to kernelflow (``Trainer(callbacks=[...])``)."""
    import importlib.util

    name = next((m for m in LIGHTNING_MODULES if importlib.util.find_spec(m.split(".")[0])), None)
    if name is None:
        from ..errors import InvalidParameterError

        raise InvalidParameterError(
            "lightning is not installed (pip install lightning); for a plain loop use LoopLogger."
        )
    import importlib

    return callback_class(importlib.import_module(name))(**kwargs)


def callback_class(module: Any) -> type:
    """The callback class for a Lightning package (built on first use)."""
    for cls in _callback_class:
        if issubclass(cls, module.Callback):
            return cls
    cls = _build_callback_class(module)
    _callback_class.append(cls)
    return cls


def _build_callback_class(pl: Any) -> type:
    class KernelflowLightningCallback(pl.Callback):
        """Logs hyperparameters, epoch metrics (step = epoch) and the trained module."""

        def __init__(self, log_models: bool = True) -> None:
            self.log_models = log_models
            self.run: AutologRun | None = None
            self.example: Any = None

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self.run = AutologRun.start(
                FRAMEWORK, type(pl_module).__name__, lambda: _trainer_params(trainer, pl_module)
            )

        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            if self.example is None and _options["log_input_examples"]:
                self.example = safely(FRAMEWORK, "take an input example", lambda: _batch_inputs(batch))

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if self.run is not None and not trainer.sanity_checking:
                self.run.record(dict(trainer.callback_metrics), step=trainer.current_epoch)

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            run, self.run = self.run, None
            if run is not None:
                run.finish(pl_module if self.log_models else None, self.example)

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            run, self.run = self.run, None
            if run is not None:
                run.fail()

    return KernelflowLightningCallback


def _trainer_params(trainer: Any, pl_module: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"epochs": trainer.max_epochs}
    if trainer.optimizers:
        opt = trainer.optimizers[0]
        params["optimizer_name"] = type(opt).__name__
        for key in ("lr", "momentum", "weight_decay", "betas", "eps"):
            if key in opt.defaults:
                params[key] = opt.defaults[key]
    params.update({k: v for k, v in dict(getattr(pl_module, "hparams", {}) or {}).items()})
    return params


def _batch_inputs(batch: Any) -> Any:
    inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
    return inputs[:5].detach().cpu().numpy() if hasattr(inputs, "detach") else None
