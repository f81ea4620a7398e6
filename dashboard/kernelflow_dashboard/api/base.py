"""The Tornado handler every REST endpoint shares: security checks, JSON in and out, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import tornado.web

import kernelflow
from kernelflow.errors import KernelflowError

from ..auth import HostPolicy, TokenCheck, foreign_host_message, origin_allowed
from .error_shape import mlflow_error
from .request import Params, check_fields, out_of_range_message

log = logging.getLogger("kernelflow_dashboard.api")
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_URI_BYTES = 1024 * 1024  # longer request URIs get a JSON 414 (see server.MAX_HEADER_BYTES)


@dataclass
class Security:
    """The server's access rules.

    Args:
        check: the token check (a no-op without a token).
        hosts: the ``Host`` and ``Origin`` headers answered (whatever the bind address).
    """

    check: TokenCheck = field(default_factory=lambda: TokenCheck(None))
    hosts: HostPolicy = field(default_factory=HostPolicy)


class ApiError(Exception):
    """An error with MLflow's REST shape that is not a KernelflowError (bad JSON, 404 route)."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


# Store calls block on SQLite; run them off the IOLoop so the UI stays responsive.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kernelflow-api")


async def run_blocking(fn, *args) -> Any:
    """Run ``fn(*args)`` in the API's thread pool."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)


class BaseHandler(tornado.web.RequestHandler):
    """Checks host, origin and token before any work; writes errors as MLflow does."""

    def initialize(self, security: Security, **kwargs: Any) -> None:
        self.security = security
        for name, value in kwargs.items():
            setattr(self, name, value)

    def prepare(self) -> None:
        if len(self.request.uri or "") > MAX_URI_BYTES:
            raise ApiError(414, "INVALID_PARAMETER_VALUE",
                           f"Request URI too long: {len(self.request.uri)} bytes, at most "
                           f"{MAX_URI_BYTES}. Send long lists in a POST body instead, or split "
                           "the call (get-history-bulk-interval takes 100 run_ids).")
        if not self.security.hosts.host_ok(self.request):
            raise ApiError(403, "PERMISSION_DENIED", foreign_host_message(self.request))
        if not origin_allowed(self, self.security.hosts):
            raise ApiError(403, "PERMISSION_DENIED",
                           "Cross-origin requests are refused (CORS is off on this server).")
        if not self.security.check.allows(self):
            self.set_header("WWW-Authenticate", 'Basic realm="kernelflow"')
            raise ApiError(401, "UNAUTHENTICATED",
                           "This server needs a token: send 'Authorization: Bearer <token>' "
                           "(MLflow's client: set MLFLOW_TRACKING_TOKEN).")

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Kernelflow-Version", kernelflow.__version__)

    def write_json(self, body: dict, status: int = 200) -> None:
        """Send ``body`` as JSON (NaN and infinities are already strings)."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, separators=(",", ":"), allow_nan=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            body, status = {"error_code": exc.error_code, "message": exc.message}, exc.status
        elif isinstance(exc, KernelflowError):
            body, status = exc.to_dict(), exc.http_status
        elif isinstance(exc, tornado.web.HTTPError):
            status = exc.status_code
            body = {"error_code": _code_for(status), "message": exc.log_message or self._reason}
        elif isinstance(exc, OverflowError):  # a number SQLite cannot hold: the caller's
            status = 400
            body = {"error_code": "INVALID_PARAMETER_VALUE",
                    "message": out_of_range_message(getattr(self, "_fields", None) or {})}
        else:
            status = 500
            error_id = getattr(self, "_error_id", None) or secrets.token_hex(4)
            body = {"error_code": "INTERNAL_ERROR",
                    "message": f"Internal error {error_id}: the server's log has the details "
                               f"under this id; please report it."}
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json")
        if self._body_unread():
            # Tornado drops the connection when it answers before reading the body: say so,
            # or a client reusing the connection meets a reset on its next request.
            self.set_header("Connection", "close")
        self.set_status(status)
        self.finish(json.dumps(mlflow_error(body)))

    def _body_unread(self) -> bool:
        body = getattr(self.request, "_body_future", None)  # streamed bodies only
        return body is not None and not body.done()

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (ApiError, KernelflowError, OverflowError)):
            return  # a user's mistake, already answered with its message
        if isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
            return
        self._error_id = secrets.token_hex(4)
        log.error("Internal error %s on %s %s", self._error_id, self.request.method,
                  self.request.path, exc_info=(typ, value, tb))

    def params(self) -> Params:
        """The request's fields: query arguments for GET, the JSON body otherwise.

        Raises:
            ApiError: 400 for a body that is not a JSON object (or nests too deep to parse).
            InvalidParameterError: for a field no endpoint could store (``check_fields``).
        """
        if self.request.method in ("GET", "HEAD") or not self.request.body:
            fields = self.query_params()
        else:
            check_json_size(len(self.request.body))
            try:
                data = json.loads(self.request.body)
            except RecursionError:
                raise ApiError(400, "MALFORMED_REQUEST",
                               "Malformed JSON body: it nests too deeply.") from None
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(400, "MALFORMED_REQUEST", f"Malformed JSON body: {exc}") from None
            if not isinstance(data, dict):
                raise ApiError(400, "MALFORMED_REQUEST", "The JSON body must be an object.")
            fields = Params(data)
        self._fields = fields
        check_fields(fields)
        return fields

    def query_params(self) -> Params:
        """Query arguments; a name given several times becomes a list."""
        out = Params(query=True)
        for name, values in self.request.query_arguments.items():
            decoded = [v.decode("utf-8", "replace") for v in values]
            out[name] = decoded[0] if len(decoded) == 1 else decoded
        return out


def check_json_size(n: int) -> None:
    """Refuse a JSON request body over ``MAX_JSON_BYTES`` with MLflow's error shape (413).

    Raises:
        ApiError: 413 ``INVALID_PARAMETER_VALUE`` naming the size and the limit.
    """
    if n > MAX_JSON_BYTES:
        raise ApiError(413, "INVALID_PARAMETER_VALUE",
                       f"Request body too large: {n} bytes; JSON calls take at most "
                       f"{MAX_JSON_BYTES} bytes ({MAX_JSON_BYTES // 2**20} MiB). Split the "
                       "data over several calls (log-batch takes 1000 metrics per call) or "
                       "upload files through the artifact API.")


def _code_for(status: int) -> str:
    return {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
            404: "ENDPOINT_NOT_FOUND", 405: "ENDPOINT_NOT_FOUND",
            413: "INVALID_PARAMETER_VALUE"}.get(status, "INTERNAL_ERROR")
