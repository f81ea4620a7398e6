"""The PyTorch flavor: an ``nn.Module`` stored as ``torch.export`` or TorchScript.

Both formats hold the graph and the weights, so loading never needs the user's
class to be importable. With an input example the module is exported with
``torch.export`` (batch dimension left free); without one, or when export
fails, it is compiled with TorchScript.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ..flavor import Flavor, class_path

logger = logging.getLogger(__name__)

EXPORT_FILE = "model.pt2"
SCRIPT_FILE = "model.pt"


class PyTorchFlavor(Flavor):
    """Saves ``torch.nn.Module`` objects; predicts under ``torch.no_grad``."""

    name = "pytorch"
    packages = ("torch",)

    def accepts(self, model: Any) -> bool:
        """True for ``torch.nn.Module`` instances (and loaded exported programs)."""
        return "torch.nn.modules.module.Module" in class_path(model)

    def save(self, model: Any, path: str, input_example: Any = None, **options: Any) -> dict:
        """Export the module (``serialization="export"|"torchscript"`` forces one)."""
        import torch

        model = model.eval()
        wanted = options.get("serialization")
        conf = {"pytorch_version": torch.__version__.split("+")[0]}
        if wanted != "torchscript" and input_example is not None:
            try:
                _save_export(model, path, input_example)
                return {**conf, "model_data": EXPORT_FILE, "serialization": "export"}
            except Exception as exc:
                if wanted == "export":
                    raise InvalidParameterError(f"torch.export could not export the model: {exc}") from exc
                logger.info("torch.export failed (%s); saving with TorchScript instead", exc)
        elif wanted == "export":
            raise InvalidParameterError(
                "serialization='export' needs an input_example to trace the model with."
            )
        _save_script(model, path, input_example)
        return {**conf, "model_data": SCRIPT_FILE, "serialization": "torchscript"}

    def load(self, path: str, conf: dict) -> Any:
        """Load the module; it runs without the original Python class."""
        import torch

        file = os.path.join(path, conf.get("model_data", SCRIPT_FILE))
        if conf.get("serialization") == "export":
            return torch.export.load(file).module()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(file, map_location="cpu")

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """Run the module on ``data`` as a float tensor and return a numpy array."""
        import torch

        with torch.no_grad():
            out = model(to_tensor(data))
        return _to_numpy(out)


def to_tensor(data: Any) -> Any:
    """Turn a DataFrame, array, list or tensor into a torch tensor."""
    import torch

    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, (pd.DataFrame, pd.Series)):
        data = data.to_numpy()
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)  # torch modules default to float32 weights
    return torch.from_numpy(np.ascontiguousarray(arr))


def _to_numpy(out: Any) -> Any:
    if isinstance(out, (tuple, list)):
        return [_to_numpy(o) for o in out]
    if isinstance(out, dict):
        return {k: _to_numpy(v) for k, v in out.items()}
    return out.detach().cpu().numpy() if hasattr(out, "detach") else out


def _save_export(model: Any, path: str, input_example: Any) -> None:
    import torch

    example = to_tensor(input_example)
    dims = {0: torch.export.Dim.AUTO} if example.ndim else None
    program = torch.export.export(model, (example,), dynamic_shapes=(dims,))
    torch.export.save(program, os.path.join(path, EXPORT_FILE))


def _save_script(model: Any, path: str, input_example: Any) -> None:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            compiled = torch.jit.script(model)
        except Exception as exc:
            if input_example is None:
                raise InvalidParameterError(
                    f"TorchScript could not compile {type(model).__qualname__}: {exc}. "
                    "Pass input_example= so the model can be exported by tracing."
                ) from exc
            compiled = torch.jit.trace(model, to_tensor(input_example))
        compiled.save(os.path.join(path, SCRIPT_FILE))
