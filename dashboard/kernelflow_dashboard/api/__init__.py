"""kernelflow's MLflow-compatible REST API, as Tornado handlers for the dashboard server.

``routes(api, security)`` returns the URL patterns to mount, under both
``/api/2.0/mlflow/`` (MLflow's clients) and ``/ajax-api/2.0/mlflow/`` (browsers).
"""

from __future__ import annotations

from typing import Any

from .artifacts import ArtifactHandler, ArtifactListHandler, RunArtifactHandler
from .base import ApiError, BaseHandler, Security, run_blocking
from .endpoints import ENDPOINTS, EXTENSIONS, find_endpoint
from .service import Api


class JsonApiHandler(BaseHandler):
    """Dispatches ``/api/2.0/mlflow/<endpoint>`` to the function in its endpoint table."""

    api: Api
    table: dict

    async def _dispatch(self, endpoint: str) -> None:
        fn, path_fields, exists = find_endpoint(self.table, endpoint, self.request.method)
        if fn is None:
            if exists:
                raise ApiError(405, "ENDPOINT_NOT_FOUND",
                               f"{self.request.method} is not allowed on {self.request.path}.")
            raise ApiError(404, "ENDPOINT_NOT_FOUND",
                           f"No API endpoint {self.request.path}; see the MLflow REST API reference.")
        params = self.params()
        params.update(path_fields)
        self.write_json(await run_blocking(fn, self.api, params))

    get = post = patch = delete = put = _dispatch


def routes(api: Api, security: Security) -> list[tuple[str, type, dict[str, Any]]]:
    """URL patterns of the REST API, ready for Tornado's (or Panel's extra_patterns) list."""
    kw = {"api": api, "security": security}
    prefixes = (r"/api/2\.0/mlflow", r"/ajax-api/2\.0/mlflow")
    out: list[tuple[str, type, dict[str, Any]]] = []
    for pre in (r"/api/2\.0/mlflow-artifacts", r"/ajax-api/2\.0/mlflow-artifacts"):
        out += [
            (pre + r"/artifacts/?", ArtifactListHandler, kw),
            (pre + r"/artifacts/(?P<path>.+)", ArtifactHandler, kw),
        ]
    out += [(r"/get-artifact", RunArtifactHandler, kw),
            (r"/ajax-api/2\.0/mlflow/get-artifact", RunArtifactHandler, kw)]
    out += [(p + r"/(.+)", JsonApiHandler, {**kw, "table": ENDPOINTS}) for p in prefixes]
    out += [(p.replace("mlflow", "kernelflow") + r"/(.+)", JsonApiHandler,
             {**kw, "table": EXTENSIONS}) for p in prefixes]
    return out


__all__ = ["Api", "Security", "routes"]
