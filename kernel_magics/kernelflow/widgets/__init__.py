"""Notebook widgets: live metric charts, the runs table, run comparison and the registry browser.

Importing this package is light; ipywidgets is imported when a widget is first built.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LiveChart": "live_chart",
    "live": "live_chart",
    "RunsTable": "runs_table",
    "CompareChart": "compare",
    "compare_runs": "compare",
    "resolve_run": "compare",
    "RegistryBrowser": "registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kernelflow.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
