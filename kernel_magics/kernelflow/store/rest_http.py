"""The HTTP side of :class:`~kernelflow.store.rest.RestStore`: calls and error mapping.

One ``requests.Session`` per store; MLflow's ``{"error_code", "message"}`` answers become
the matching :mod:`kernelflow.errors` class, so a caller sees the same error on a SQLite
file and over HTTP.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import (
    InvalidParameterError,
    InvalidStateError,
    KernelflowError,
    ResourceExistsError,
    ResourceNotFoundError,
    StoreError,
)

TIMEOUT_S = 120

_ERRORS: dict[str, type[KernelflowError]] = {
    "RESOURCE_DOES_NOT_EXIST": ResourceNotFoundError,
    "RESOURCE_ALREADY_EXISTS": ResourceExistsError,
    "INVALID_PARAMETER_VALUE": InvalidParameterError,
    "MALFORMED_REQUEST": InvalidParameterError,
    "BAD_REQUEST": InvalidParameterError,
    "INVALID_STATE": InvalidStateError,
}


def error_from_response(status: int, body: str, url: str) -> KernelflowError:
    """The KernelflowError for an error response (MLflow's ``{"error_code", "message"}``)."""
    try:
        data = json.loads(body)
        code, message = data.get("error_code", "INTERNAL_ERROR"), data.get("message", body)
    except (ValueError, AttributeError):
        code, message = "INTERNAL_ERROR", f"HTTP {status} from {url}: {body[:200]}"
    if status == 401:
        message += " Set KERNELFLOW_TOKEN to the server's token."
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(message)
    err = StoreError(message) if status >= 500 else KernelflowError(message, code)
    err.http_status = status
    return err


class RestTransport:
    """A server's base URL, an authenticated session and :meth:`call`.

    Args:
        uri: the server's base URL, like ``http://127.0.0.1:5000``.
        token: bearer token; defaults to ``KERNELFLOW_TOKEN`` or ``MLFLOW_TRACKING_TOKEN``.
        session: a ``requests.Session`` to use (a seam for tests); one is made if None.
    """

    def __init__(self, uri: str, token: str | None = None, session=None) -> None:
        import requests

        self.uri = uri.rstrip("/")
        self.session = session or requests.Session()
        token = token or os.environ.get("KERNELFLOW_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    # -- transport -------------------------------------------------------------
    def call(self, method: str, endpoint: str, body: dict | None = None, prefix: str = "mlflow") -> dict:
        """Call ``/api/2.0/<prefix>/<endpoint>`` and return the decoded JSON answer.

        Raises:
            KernelflowError: the server's error, as the matching subclass.
            StoreError: the server cannot be reached.
        """
        import requests

        url = f"{self.uri}/api/2.0/{prefix}/{endpoint}"
        kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body or {}}
        try:
            resp = self.session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            raise StoreError(
                f"Cannot reach the kernelflow server at {self.uri} ({exc.__class__.__name__}). "
                "Is `kernelflow ui` running there?"
            ) from exc
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, resp.text, url)
        return resp.json() if resp.content else {}
