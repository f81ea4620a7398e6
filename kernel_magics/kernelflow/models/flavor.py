"""The flavor interface, and the list of known flavors.

A flavor knows how to save one kind of model to a directory, load it back,
and predict with it. kernelflow's own flavors (scikit-learn, PyTorch, Keras,
Python function) are registered through :func:`register_flavor`, the same
hook a plugin uses; plugins may also declare an entry point in the
``kernelflow.flavors`` group pointing at a :class:`Flavor` subclass.

A flavor module must not import its framework at import time: ``accepts``
inspects the object's class without importing anything.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from ..errors import InvalidParameterError

logger = logging.getLogger(__name__)


class Flavor:
    """One way to store and run a model. Subclass and register to add one.

    Attributes:
        name: The flavor's key in the metadata file (``sklearn``, ``pytorch``...).
        packages: pip distributions the model needs, pinned in requirements.txt.
    """

    name: ClassVar[str] = ""
    packages: ClassVar[tuple[str, ...]] = ()

    def accepts(self, model: Any) -> bool:
        """Return True when this flavor can save ``model``."""
        raise NotImplementedError

    def save(self, model: Any, path: str, input_example: Any = None, **options: Any) -> dict:
        """Write ``model`` into the directory ``path``.

        Returns:
            The flavor's entry in the metadata file (file names, versions).
        """
        raise NotImplementedError

    def load(self, path: str, conf: dict) -> Any:
        """Load the native model from the directory ``path``."""
        raise NotImplementedError

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """Run the native model on ``data`` (already checked against the signature).

        ``conf`` is the flavor's entry in the metadata file.
        """
        raise NotImplementedError

    def loader_module(self) -> str:
        """The module written as ``python_function.loader_module``."""
        return f"kernelflow.{self.name}"

    def requirements(self, model: Any) -> tuple[str, ...]:
        """pip distributions ``model`` needs: the flavor's, plus the one its class comes from.

        A model class from a third-party package (an XGBoost estimator, a
        ``timm`` network) brings that package into ``requirements.txt``.
        """
        from .requirements import distribution_of

        own = distribution_of(type(model).__module__)
        return (*self.packages, own) if own and own not in self.packages else self.packages


def class_path(obj: Any) -> list[str]:
    """Fully qualified names of the classes in ``type(obj).__mro__``."""
    return [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__]


_FLAVORS: list[Flavor] = []
_builtins_loaded = False
_plugins_loaded = False


def register_flavor(flavor: Flavor, first: bool = True) -> None:
    """Add a flavor. ``first`` puts it ahead of the others when detecting.

    Registering a flavor with an existing name replaces the old one.
    """
    _FLAVORS[:] = [f for f in _FLAVORS if f.name != flavor.name]
    if first:
        _FLAVORS.insert(0, flavor)
    else:
        _FLAVORS.append(flavor)


def _ensure_loaded() -> None:
    global _builtins_loaded, _plugins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from .flavors import register_builtin_flavors

        register_builtin_flavors()
    if not _plugins_loaded:
        _plugins_loaded = True
        _load_plugins()


def _load_plugins() -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group="kernelflow.flavors"):
        try:
            register_flavor(ep.load()())
        except Exception as exc:  # a broken plugin must not break the built-ins
            logger.warning("Could not load model flavor plugin %s: %s", ep.name, exc)


def flavors() -> list[Flavor]:
    """All registered flavors, in detection order."""
    _ensure_loaded()
    return list(_FLAVORS)


def get_flavor(name: str) -> Flavor:
    """Return the flavor called ``name``.

    Raises:
        InvalidParameterError: no flavor has that name.
    """
    for flavor in flavors():
        if flavor.name == name:
            return flavor
    known = ", ".join(f.name for f in flavors())
    raise InvalidParameterError(f"Unknown model flavor {name!r}. Known flavors: {known}.")


def detect_flavor(model: Any) -> Flavor:
    """Return the first flavor that accepts ``model``.

    Raises:
        InvalidParameterError: no flavor knows this kind of object.
    """
    for flavor in flavors():
        if flavor.accepts(model):
            return flavor
    raise InvalidParameterError(
        f"kernelflow does not know how to save a {type(model).__module__}."
        f"{type(model).__qualname__}. Supported: scikit-learn estimators, torch.nn.Module, "
        "Keras models, Python functions and kernelflow.PythonModel subclasses "
        "(wrap anything else in a PythonModel)."
    )
