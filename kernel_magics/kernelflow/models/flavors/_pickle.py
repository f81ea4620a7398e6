"""Pickling with cloudpickle when it is installed (it handles notebook-defined code)."""

from __future__ import annotations

import pickle
from typing import Any

from ...errors import InvalidParameterError, KernelflowError


def serialization_format() -> str:
    """``cloudpickle`` when importable, else ``pickle``."""
    try:
        import cloudpickle  # noqa: F401

        return "cloudpickle"
    except ImportError:
        return "pickle"


def dump(obj: Any, path: str) -> str:
    """Pickle ``obj`` to ``path``; return the format used."""
    fmt = serialization_format()
    with open(path, "wb") as fh:
        if fmt == "cloudpickle":
            import cloudpickle

            cloudpickle.dump(obj, fh)
        else:
            try:
                pickle.dump(obj, fh)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise InvalidParameterError(
                    f"Could not pickle {type(obj).__qualname__}: {exc}. Objects defined in a "
                    "notebook need cloudpickle: pip install cloudpickle."
                ) from exc
    return fmt


def load(path: str) -> Any:
    """Unpickle ``path`` (pickle reads cloudpickle's output too).

    Raises:
        KernelflowError: a module the model needs is not installed.
    """
    with open(path, "rb") as fh:
        try:
            return pickle.load(fh)
        except ModuleNotFoundError as exc:
            raise missing_module(exc) from exc


def missing_module(exc: ModuleNotFoundError) -> KernelflowError:
    """The error for a model whose framework (or code) is not importable here."""
    return KernelflowError(
        f"Loading this model needs the Python module {exc.name!r}, which is not installed "
        "here. Install the packages listed in the model's requirements.txt "
        "(pip install -r requirements.txt)."
    )
