"""PyTorch models, MLflow-style: ``kernelflow.pytorch.log_model`` / ``load_model``.

Models are stored with ``torch.export`` (given an input example) or TorchScript,
so loading does not need the model's Python class.
"""

from __future__ import annotations

from typing import Any

from .models import api as _api
from .models.metadata import ModelInfo

FLAVOR_NAME = "pytorch"


def save_model(pytorch_model: Any, path: str, **kwargs: Any) -> ModelInfo:
    """Save an ``nn.Module`` to ``path``; ``serialization="export"|"torchscript"`` forces a format."""
    return _api.save_model(pytorch_model, path, flavor=FLAVOR_NAME, **kwargs)


def log_model(pytorch_model: Any, name: str | None = None, **kwargs: Any) -> ModelInfo:
    """Log an ``nn.Module`` into the active run (see :func:`kernelflow.log_model`)."""
    kwargs.setdefault("flavor", FLAVOR_NAME)
    return _api.log_model(pytorch_model, name, **kwargs)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """Load the module (an exported GraphModule or a ScriptModule), ready to call."""
    return _api.load_native(model_uri, FLAVOR_NAME, dst_path)


def autolog(**kwargs: Any) -> None:
    """Turn on Lightning autologging (see :func:`kernelflow.autolog`)."""
    from .autolog import pytorch as _autolog

    _autolog.enable(**kwargs)


def __getattr__(name: str) -> Any:
    # The training-loop helpers live with autolog; import torch only when asked for.
    if name in ("LoopLogger", "lightning_callback"):
        from .autolog import pytorch as _autolog

        return getattr(_autolog, name)
    raise AttributeError(f"module 'kernelflow.pytorch' has no attribute {name!r}")


def _load_pyfunc(path: str) -> Any:
    """Entry point MLflow's ``pyfunc.load_model`` calls for kernelflow-made models."""
    return _api.load_model(path)
