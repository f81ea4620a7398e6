"""kernelflow's MLflow-compatible REST API, as Tornado handlers for the dashboard server.

``routes(api, security)`` returns the URL patterns to mount, under both
``/api/2.0/mlflow/`` (MLflow's clients) and ``/ajax-api/2.0/mlflow/`` (browsers).
"""

from __future__ import annotations

from typing import Any

import tornado.web

from .artifacts import (
    ArtifactHandler,
    ArtifactListHandler,
    LoggedModelArtifactHandler,
    ModelVersionArtifactHandler,
    RunArtifactHandler,
    UploadArtifactHandler,
)
from .base import MAX_JSON_BYTES, ApiError, BaseHandler, Security, check_json_size, run_blocking
from .endpoints import ENDPOINTS, EXTENSIONS, find_endpoint
from .genai_datasets import routes as genai_dataset_routes
from .service import Api
from .traces import trace_routes, traced


@tornado.web.stream_request_body
class JsonApiHandler(BaseHandler):
    """Dispatches ``/api/2.0/mlflow/<endpoint>`` to the function in its endpoint table.

    The body is streamed in so that one over the JSON limit gets MLflow's JSON error
    (413) instead of Tornado's empty 400 for bodies over the server's ``max_body_size``.
    """

    api: Api
    table: dict

    def prepare(self) -> None:
        super().prepare()
        self._chunks: list[bytes] = []
        self._received = 0
        check_json_size(int(self.request.headers.get("Content-Length") or 0))
        # Room past the limit so a chunked body over it meets our 413, not Tornado's close.
        self.request.connection.set_max_body_size(2 * MAX_JSON_BYTES)

    def data_received(self, chunk: bytes) -> None:
        # A chunked body has no Content-Length: count it, keep nothing past the limit and
        # answer once it is all read (answering early would reset the client's upload).
        self._received += len(chunk)
        if self._received <= MAX_JSON_BYTES:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()

    async def _dispatch(self, endpoint: str) -> None:
        check_json_size(self._received)
        self.request.body = b"".join(self._chunks)
        fn, path_fields, exists = find_endpoint(self.table, endpoint, self.request.method)
        if fn is None:
            if exists:
                raise ApiError(405, "ENDPOINT_NOT_FOUND",
                               f"{self.request.method} is not allowed on {self.request.path}.")
            raise ApiError(404, "ENDPOINT_NOT_FOUND",
                           f"No API endpoint {self.request.path}; see the MLflow REST API reference.")
        params = self.params()
        params.update(path_fields)
        fn = traced(fn, self.api, self.request.headers, f"{self.request.method} {endpoint}")
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
            (r"/ajax-api/2\.0/mlflow/get-artifact", RunArtifactHandler, kw),
            (r"/model-versions/get-artifact", ModelVersionArtifactHandler, kw),
            (r"/ajax-api/2\.0/mlflow/model-versions/get-artifact", ModelVersionArtifactHandler, kw)]
    for p in prefixes:  # MLflow's web UI calls (ajax-api); the api prefix answers the same
        out += [(p + r"/upload-artifact", UploadArtifactHandler, kw),
                (p + r"/logged-models/(?P<model_id>[^/]+)/artifacts/files",
                 LoggedModelArtifactHandler, kw)]
    out += trace_routes(api, security)  # before the catch-all routes below
    out += [(p + r"/(.+)", JsonApiHandler, {**kw, "table": ENDPOINTS}) for p in prefixes]
    out += [(p.replace("mlflow", "kernelflow") + r"/(.+)", JsonApiHandler,
             {**kw, "table": EXTENSIONS}) for p in prefixes]
    out += genai_dataset_routes(api, security)  # /api/3.0/mlflow/datasets/...
    return out


__all__ = ["Api", "Security", "routes"]
