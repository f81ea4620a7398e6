"""kernelflow serving: registry models on Ray Serve, behind MLflow's scoring protocol.

``serve(model_uri, ...)`` returns a handle with ``.url``, ``.predict(data)``,
``.status()`` and ``.stop()``. Importing this package does not import Ray.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServingHandle", "running", "serve", "stop_all"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'kernelflow_serving' has no attribute {name!r}")
