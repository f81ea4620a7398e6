"""The Ray Serve deployment: MLflow's scoring protocol in front of registry models.

``ModelServer`` loads its models (:class:`~kernelflow_serving.model.ModelSlot`) and answers
HTTP; its options arrive through ``user_config`` (``reconfigure``), as Ray Serve's
examples do. Requests to ``/invocations`` are grouped by ``@serve.batch``: frames with
the same columns for the same model become one ``predict`` call. A background thread
re-resolves followed aliases; a moved alias loads the new version beside the old one and
swaps it in, so no request fails during the swap. ``build_app(args)`` makes
``serve run kernelflow_serving.app:build_app model_uri=models:/m@a`` work.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

import kernelflow

from . import protocol
from .batch import predict_many
from .model import ModelSlot
from .phases import mark

NAME_HEADER = "X-Kernelflow-Model-Name"
VERSION_HEADER = "X-Kernelflow-Model-Version"
ALIAS_HEADER = "X-Kernelflow-Model-Alias"

DEFAULT_OPTIONS = {
    "max_batch_size": 32,
    "batch_wait_ms": 5.0,
    "timeout_s": 60.0,
    "poll_interval_s": 2.0,
    "max_body_mb": 64.0,
}


LOAD_FAILED = "kernelflow could not load"


def _load(uri: str, client: Any) -> ModelSlot:
    try:
        return ModelSlot(uri, client)
    except Exception as exc:  # one line the driver finds in Ray's report
        raise RuntimeError(f"{LOAD_FAILED} {uri}: {type(exc).__name__}: {exc}") from exc


async def read_body(request: Request, limit: int) -> tuple[bytes | None, int]:
    """The request body and its size; None for the body when it is over ``limit`` bytes
    (a Content-Length over the limit is refused before reading)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        return None, int(length)
    body = await request.body()
    return (None if len(body) > limit else body), len(body)


def too_large(size: int, limit: int) -> protocol.ScoringError:
    """MLflow's 413 for a body over ``--max-body-mb``."""
    return protocol.ScoringError(
        f"The request body is {size} bytes; this server accepts at most {limit} "
        "(--max-body-mb). Send fewer rows per request.", status=413,
        error_code="RESOURCE_LIMIT_EXCEEDED")


async def traced_invocation(deployment: str, request: Request, attributes: dict,
                            answer: Callable[[], Awaitable[Response]]) -> Response:
    """``answer()`` recorded as a trace, continuing the caller's W3C traceparent if sent."""
    from kernelflow import tracing

    with tracing.continue_trace(request.headers), tracing.start_span(
            f"{deployment}/invocations", span_type="CHAIN", attributes=attributes) as span:
        body = await request.body()
        span.set_inputs({"content_type": request.headers.get("content-type"),
                         "body": body.decode("utf-8", errors="replace")})
        response = await answer()
        span.set_attribute("http.status_code", response.status_code)
        span.set_attribute("model.version", response.headers.get(VERSION_HEADER))
        text = bytes(response.body).decode("utf-8", errors="replace")
        span.set_outputs(text)
        if response.status_code >= 400:
            span.set_status("ERROR", text[:500])
        return response


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json",
                    headers=headers)


class ModelServer:
    """One replica: the models of a deployment, behind ``/invocations``.

    Args:
        deployment: the deployment's name (the row the store keeps).
        models: ``{route name: model URI}``; with one model, ``/invocations`` serves it.
        tracking_uri: the tracking store holding the registry (and the deployment's row).
        record: update the store's row when a followed alias moves.
    """

    def __init__(self, deployment: str, models: dict[str, str], tracking_uri: str,
                 record: bool = True, direct: tuple[str, int] | None = None) -> None:
        mark("replica: constructor")
        kernelflow.set_tracking_uri(tracking_uri)
        self.client = kernelflow.Client(tracking_uri)
        self.deployment = deployment
        self.record = record
        self.slots = {route: _load(uri, self.client) for route, uri in models.items()}
        mark("replica: models loaded")
        self.default = next(iter(self.slots)) if len(self.slots) == 1 else None
        self.options = dict(DEFAULT_OPTIONS)
        self._in_flight = 0  # /invocations requests being answered (event-loop only)
        self._stop = threading.Event()
        threading.Thread(target=self._follow, name="kernelflow-alias-follower",
                         daemon=True).start()
        if direct:
            self._listen(*direct)

    # -- configuration ---------------------------------------------------------
    def reconfigure(self, config: dict) -> None:
        """Apply options sent as ``user_config`` (batch size and wait, timeout, polling)."""
        self.options = {**DEFAULT_OPTIONS, **(config or {})}
        if self.options.get("trace"):
            from kernelflow import tracing

            tracing.set_destination(tracking_uri=self.client.tracking_uri)
        self._predict_batch.set_max_batch_size(int(self.options["max_batch_size"]))
        self._predict_batch.set_batch_wait_timeout_s(float(self.options["batch_wait_ms"]) / 1000)

    def _follow(self) -> None:
        """Re-resolve followed aliases every ``poll_interval_s``; swap in moved versions."""
        while not self._stop.wait(float(self.options["poll_interval_s"])):
            for route, slot in list(self.slots.items()):
                self._refresh(route, slot)

    def _refresh(self, route: str, slot: ModelSlot) -> None:
        """Follow ``slot``'s alias: UPDATING while a moved version loads, then RUNNING."""
        error = slot.last_error
        updating: list = []

        def loading(new: Any) -> None:
            updating.append(new)
            self._record(route, slot, status="UPDATING")

        if slot.refresh(on_loading=loading) or slot.last_error != error or updating:
            self._record(route, slot)  # moved, or failed to load (the old one serves on)

    def _row(self, route: str) -> str:
        return self.deployment if self.default else f"{self.deployment}/{route}"

    def _record(self, route: str, slot: ModelSlot, status: str = "RUNNING") -> None:
        if not self.record:
            return
        try:
            self.client.record_deployment(self._row(route), model_version=slot.resolved.version,
                                          status=status, last_error=slot.last_error)
        except kernelflow.KernelflowError:
            pass  # serving goes on; the row catches up on the next move

    def __del__(self) -> None:
        self._stop.set()

    # -- direct ingress ------------------------------------------------------------
    def _listen(self, host: str, port: int) -> None:
        """Answer HTTP on ``host:port`` from this replica, without Ray Serve's proxy.

        Ray Serve's HTTP proxy adds a process hop (and most of the latency) to every
        request; here each replica runs its own uvicorn on the port with SO_REUSEPORT,
        so the kernel spreads connections over the replicas of this machine. Ray Serve
        still starts, restarts, scales and reconfigures the replicas.
        """
        import socket

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
        config = uvicorn.Config(self._asgi, interface="asgi3", log_level="warning",
                                access_log=False, lifespan="off", proxy_headers=False,
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                         name="kernelflow-http", daemon=True).start()
        mark("replica: listening")

    async def _asgi(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        response = await self(Request(scope, receive))
        await response(scope, receive, send)

    # -- HTTP ------------------------------------------------------------------
    async def __call__(self, request: Request) -> Response:
        path = request.scope.get("path", "/")
        root = request.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        path = path.rstrip("/") or "/"
        route = self.default
        if path.startswith("/models/") and path.count("/") == 3:
            route, path = path.split("/")[2], "/" + path.split("/")[3]
            if route not in self.slots:
                return _json({"error_code": "RESOURCE_DOES_NOT_EXIST",
                              "message": f"No model {route!r} is served here; served: "
                                         f"{sorted(self.slots)}."}, 404)
        if path in ("/ping", "/health"):
            return Response("\n", media_type="application/json", headers=self._headers(route))
        if path == "/version":
            return Response(kernelflow.__version__, media_type="application/json")
        if path == "/models":
            return _json({r: self._describe(r) for r in self.slots})
        if path != "/invocations":
            return _json({"detail": "Not Found"}, 404)
        if request.method != "POST":
            return _json({"detail": "Method Not Allowed"}, 405)
        if route is None:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST",
                          "message": f"Several models are served here: POST to "
                                     f"/models/<name>/invocations, one of {sorted(self.slots)}."},
                         404)
        return await self._invocations(request, route)

    def _describe(self, route: str) -> dict:
        resolved = self.slots[route].resolved
        return {"model_uri": resolved.uri, "name": resolved.name, "version": resolved.version,
                "alias": resolved.alias, "last_error": self.slots[route].last_error}

    def _headers(self, route: str | None, resolved=None) -> dict[str, str]:
        if route is None:
            return {}
        resolved = resolved or self.slots[route].resolved
        return {NAME_HEADER: resolved.name, VERSION_HEADER: resolved.version or "",
                ALIAS_HEADER: resolved.alias or ""}

    async def _invocations(self, request: Request, route: str) -> Response:
        if not self.options.get("trace"):
            return await self._answer(request, route)
        resolved = self.slots[route].resolved
        attributes = {"kernelflow.deployment": self.deployment, "model.name": resolved.name,
                      "model.version": resolved.version, "model.alias": resolved.alias}
        return await traced_invocation(self.deployment, request, attributes,
                                       lambda: self._answer(request, route))

    async def _answer(self, request: Request, route: str) -> Response:
        limit = int(float(self.options["max_body_mb"]) * 1024 * 1024)
        body, size = await read_body(request, limit)
        if body is None:
            return self._error(route, too_large(size, limit))
        try:
            parsed = protocol.parse_request(body, request.headers.get("content-type"))
            protocol.cast_to_signature(parsed, self.slots[route].model.signature)
        except protocol.ScoringError as err:
            return self._error(route, err)
        # Alone in the replica: predict now rather than wait batch_wait_ms for company.
        alone = self._in_flight == 0
        self._in_flight += 1
        work = (asyncio.to_thread(predict_many, self.slots, [(route, parsed)]) if alone
                else self._predict_batch((route, parsed)))
        try:
            result = await asyncio.wait_for(work, float(self.options["timeout_s"]))
            outcome, resolved = result[0] if alone else result
        except asyncio.TimeoutError:
            return self._error(route, protocol.ScoringError(
                "Request processing time exceeded limit", status=504,
                error_code="DEADLINE_EXCEEDED"))
        finally:
            self._in_flight -= 1
        if isinstance(outcome, protocol.ScoringError):
            return self._error(route, outcome, resolved)
        return Response(outcome, media_type="application/json",
                        headers=self._headers(route, resolved))

    def _error(self, route: str, err: protocol.ScoringError, resolved=None) -> Response:
        body, media = err.body()
        return Response(body, status_code=err.status, media_type=media,
                        headers=self._headers(route, resolved))

    # -- prediction ------------------------------------------------------------
    @serve.batch(max_batch_size=DEFAULT_OPTIONS["max_batch_size"],
                 batch_wait_timeout_s=DEFAULT_OPTIONS["batch_wait_ms"] / 1000)
    async def _predict_batch(self, items: list[tuple[str, protocol.ParsedRequest]]) -> list:
        """Answer a batch of requests: one ``predict`` per group of compatible frames."""
        return await asyncio.to_thread(predict_many, self.slots, items)


def deployment_options(replicas: int | None = 1, autoscale: tuple[int, int] | None = None,
                       replica_cpus: float = 0.25, max_batch_size: int = 32) -> dict:
    """Ray Serve options for ``ModelServer``: replicas or autoscaling, CPUs, concurrency."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": replica_cpus},
        "max_ongoing_requests": max(64, 2 * max_batch_size),
        "max_constructor_retry_count": 1,  # a model that cannot load fails fast, with its reason
        "health_check_period_s": 2.0,
        "graceful_shutdown_wait_loop_s": 0.5,
        "graceful_shutdown_timeout_s": 5.0,
    }
    if autoscale:
        options["autoscaling_config"] = {"min_replicas": autoscale[0],
                                         "max_replicas": autoscale[1],
                                         "target_ongoing_requests": max(2, max_batch_size // 2)}
    else:
        options["num_replicas"] = replicas or 1
    return options


def build(deployment: str, models: dict[str, str], tracking_uri: str, *, options: dict,
          user_config: dict, record: bool = True, direct: tuple[str, int] | None = None):
    """The Ray Serve application for one deployment (``direct``: replicas listen on it)."""
    cls = serve.deployment(ModelServer, name="ModelServer", user_config=user_config, **options)
    return cls.bind(deployment, models, tracking_uri, record, direct)


def build_app(args: dict) -> Any:
    """``serve run kernelflow_serving.app:build_app model_uri=models:/m@a`` (Ray's app builder).

    Args:
        args: ``model_uri`` (required), ``name``, ``tracking_uri``, ``replicas``,
            ``max_batch_size``, ``batch_wait_ms``, ``timeout_s``, ``poll_interval_s``.
    """
    uri = args["model_uri"]
    tracking = args.get("tracking_uri") or os.environ.get("KERNELFLOW_TRACKING_URI") \
        or kernelflow.get_tracking_uri()
    config = {k: float(args[k]) for k in DEFAULT_OPTIONS if k in args}
    name = args.get("name") or "kernelflow"
    return build(name, {"model": uri}, tracking,
                 options=deployment_options(int(args.get("replicas", 1))),
                 user_config=config, record=False)

