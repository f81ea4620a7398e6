"""The dashboard's Panel pages.

``PAGES`` maps each route to a function building that page for one browser
session; the server passes it to Panel. Every page reads its arguments from the
URL, so a page's address can be shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _lazy(module: str, name: str) -> Callable[[], Any]:
    def build() -> Any:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)()

    build.__name__ = name
    build.__doc__ = f"Build the {name.replace('_', ' ')} (kernelflow_dashboard.ui.{module})."
    return build


PAGES: dict[str, Callable[[], Any]] = {
    "/": _lazy("experiments", "experiments_page"),
    "runs": _lazy("runs", "runs_page"),
    "run": _lazy("run", "run_page"),
    "compare": _lazy("compare", "compare_page"),
    "models": _lazy("models", "models_page"),
    "model": _lazy("models", "model_page"),
    "traces": _lazy("traces", "traces_page"),
}

__all__ = ["PAGES"]
