"""Run a function when a module is imported (or now, if it already is); patch methods.

Autolog patches a framework only once the user imports it, so
``kernelflow.autolog()`` never pays for importing torch or keras itself.
:func:`patch` and :func:`unpatch` wrap a class's ``fit`` and undo it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

_callbacks: dict[str, list[Callable[[ModuleType], None]]] = {}
_lock = threading.RLock()


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` now if ``name`` is imported, else right after its import."""
    with _lock:
        module = sys.modules.get(name)
        if module is None or getattr(module, "__spec__", None) is None:
            _callbacks.setdefault(name, []).append(callback)
            _install_finder()
            return
    callback(module)


def patch(
    cls: type, wrap: Callable[[Any], Any], saved: dict[type, Any], name: str = "fit"
) -> None:
    """Replace ``cls.<name>`` by ``wrap(current)``, once; ``saved`` records how to undo it."""
    current = getattr(cls, name, None)
    if cls in saved or current is None or getattr(current, "_kernelflow_autolog", False):
        return
    saved[cls] = cls.__dict__.get(name)  # None: inherited, so undoing deletes the override
    wrapped = wrap(current)
    wrapped._kernelflow_autolog = True
    setattr(cls, name, wrapped)


def unpatch(saved: dict[type, Any], name: str = "fit") -> None:
    """Undo :func:`patch` for every class in ``saved``."""
    for cls, own in saved.items():
        if own is None:
            delattr(cls, name)
        else:
            setattr(cls, name, own)
    saved.clear()


def _install_finder() -> None:
    if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder())


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = _callbacks.pop(name, [])
    for callback in callbacks:
        callback(module)


class _LoaderProxy(importlib.abc.Loader):
    """Delegates to the real loader, then fires the callbacks for the module."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _fire(self._name, module)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._loader, attr)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds watched modules with the other finders and wraps their loader."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _callbacks:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _LoaderProxy(spec.loader, fullname)
                return spec
            if spec is not None:
                return spec
        return None
