"""The dashboard's Panel pages.

``PAGES`` maps each route to a function building that page for one browser
session; the server passes it to Panel. Every page reads its arguments from the
URL, so a page's address can be shared.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
HEAVY_PAGES = ("runs", "run", "compare")


def _lazy(module: str, name: str) -> Callable[[], Any]:
    def build() -> Any:
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
    "evaluation": _lazy("evaluation", "evaluation_page"),
    "deployments": _lazy("deployments", "deployments_page"),
    "gateway": _lazy("gateway", "gateway_page"),
}



def warm() -> None:
    """Import the pages and draw one throwaway chart, so the first real request is fast.

    The server runs this in a background thread at start: without it the first run page
    pays for importing HoloViews' Bokeh plotting (about a second). Failures are only logged;
    the page then imports what it needs itself.
    """
    try:
        for module in HEAVY_PAGES:
            importlib.import_module(f"{__name__}.{module}")
        import holoviews as hv

        hv.render(hv.Curve([(0, 0.0), (1, 1.0)]) * hv.Scatter([(0, 0.0)]), backend="bokeh")
    except Exception:  # noqa: BLE001 - warming is optional
        log.warning("Could not pre-import the dashboard pages", exc_info=True)


__all__ = ["PAGES", "warm"]
