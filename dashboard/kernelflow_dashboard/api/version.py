"""Which versions this server speaks: MLflow's ``/version`` and kernelflow's own.

MLflow's client reads ``GET /version`` as the *MLflow server* version (``packaging``
``Version``); in 3.x it uses it to decide whether to send trace spans over OTLP
(``log_spans`` needs >= 3.4). Answering kernelflow's own ``0.1.0`` there made the
client treat us as a pre-3.4 MLflow. So ``/version`` answers the MLflow release whose
REST shapes this API follows, and kernelflow's own version is in the
``X-Kernelflow-Version`` header of every response and in
``GET /api/2.0/kernelflow/version``.

OTLP spans (``POST /v1/traces``, which MLflow's client uses once it sees >= 3.4) are
ingested by :mod:`kernelflow_dashboard.api.traces`.
"""

from __future__ import annotations

import tornado.web

import kernelflow

from .request import Params
from .service import Api

# The MLflow release whose REST API (service.proto, handlers) these endpoints follow;
# the acceptance tests run the official client of this line (3.17.x).
MLFLOW_API_VERSION = "3.17.0"
VERSION_HEADER = "X-Kernelflow-Version"


def get_version(api: Api, p: Params) -> dict:
    """GET /api/2.0/kernelflow/version: kernelflow's version, the MLflow API it follows, the store id."""
    return {"kernelflow_version": kernelflow.__version__, "mlflow_api_version": MLFLOW_API_VERSION,
            "store_id": api.client.store_id}


class VersionHandler(tornado.web.RequestHandler):
    """GET /version: the MLflow API version, as MLflow's server answers it (plain text)."""

    def set_default_headers(self) -> None:
        self.set_header(VERSION_HEADER, kernelflow.__version__)

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish(MLFLOW_API_VERSION)
