"""kernelflow's built-in flavors, registered through the same hook as plugins."""

from __future__ import annotations

from ..flavor import register_flavor


def register_builtin_flavors() -> None:
    """Register the built-in flavors in detection order.

    Keras comes before PyTorch because a Keras 3 model on the torch backend is
    also a ``torch.nn.Module``; the Python-function flavor comes last because
    every model is callable.
    """
    from .keras import KerasFlavor
    from .pyfunc import PythonFunctionFlavor
    from .pytorch import PyTorchFlavor
    from .sklearn import SklearnFlavor

    for flavor in (KerasFlavor(), PyTorchFlavor(), SklearnFlavor(), PythonFunctionFlavor()):
        register_flavor(flavor, first=False)
