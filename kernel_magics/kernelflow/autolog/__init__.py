"""``kernelflow.autolog()``: log training without logging calls.

One short module per framework, each calling only kernelflow's public API:
``sklearn`` (patches ``fit``), ``pytorch`` (a Lightning callback, and
:class:`~kernelflow.autolog.pytorch.LoopLogger` for plain loops) and ``keras``
(a callback added to ``Model.fit``); ``litellm`` and ``openai`` trace LLM calls
(see :mod:`kernelflow.tracing`). Frameworks are patched when they are
imported, so calling ``autolog()`` first costs nothing. An error inside
autolog is reported as a warning; training always goes on.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

FRAMEWORKS = ("sklearn", "pytorch", "keras", "litellm", "openai")

__all__ = ["FRAMEWORKS", "autolog"]


def autolog(
    log_models: bool = True,
    log_input_examples: bool = True,
    disable: bool = False,
    frameworks: list[str] | tuple[str, ...] = FRAMEWORKS,
    **options: Any,
) -> None:
    """Turn on autologging for scikit-learn, PyTorch Lightning and Keras.

    Args:
        log_models: Log the trained model at the end of training.
        log_input_examples: Store a few input rows with the model.
        disable: Turn autologging off instead.
        frameworks: Limit autologging to some of ``sklearn``, ``pytorch``, ``keras``.
        **options: Framework options, e.g. ``max_tuning_runs`` (scikit-learn).
    """
    from ..errors import InvalidParameterError

    unknown = sorted(set(frameworks) - set(FRAMEWORKS))
    if unknown:
        raise InvalidParameterError(
            f"Unknown autolog framework {unknown[0]!r}; choose from {', '.join(FRAMEWORKS)}."
        )
    for name in frameworks:
        module = importlib.import_module(f".{name}", __name__)
        module.enable(
            log_models=log_models, log_input_examples=log_input_examples, disable=disable, **options
        )


class _CallableModule(types.ModuleType):
    """Lets ``kernelflow.autolog(...)`` work although ``kernelflow.autolog`` is a package.

    Importing a submodule (``kernelflow.autolog.sklearn``) rebinds the package
    attribute ``kernelflow.autolog`` to this module, replacing the function;
    making the module callable keeps MLflow's ``autolog()`` spelling working.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
