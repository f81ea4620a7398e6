"""Many models on shared replicas: Ray Serve's model multiplexing behind one HTTP front.

``kernelflow serve A B C --multiplex --max-models-per-replica N`` builds two deployments:

- ``ModelRouter`` (the ingress) answers HTTP (``/models/<name>/invocations``, ``/ping``,
  ``/models``) and forwards each request through a ``DeploymentHandle`` with
  ``.options(multiplexed_model_id=<name>)``, so Ray Serve routes it to a pool replica that
  already holds that model when one does;
- ``ModelPool`` replicas load models on demand through ``@serve.multiplexed``, at most N
  each, evicting the least recently used. Every answer carries ``X-Kernelflow-Replica``,
  ``X-Kernelflow-Replica-Models`` (models loaded on that replica now) and
  ``X-Kernelflow-Replica-Loads`` (models it has loaded so far), so eviction can be seen.

Followed aliases keep working: each pool replica re-resolves the models it holds and swaps
moved versions in (the deployment's row reads UPDATING while one loads).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

import kernelflow

from . import protocol
from .app import (
    ALIAS_HEADER,
    DEFAULT_OPTIONS,
    NAME_HEADER,
    VERSION_HEADER,
    ModelServer,
    _json,
    _load,
    read_body,
    too_large,
    traced_invocation,
)
from .batch import predict_many
from .model import ModelSlot

REPLICA_HEADER = "X-Kernelflow-Replica"
LOADED_HEADER = "X-Kernelflow-Replica-Models"
LOADS_HEADER = "X-Kernelflow-Replica-Loads"


class _Held:
    """A model the multiplexer holds; Ray Serve calls ``__del__`` when it evicts it."""

    def __init__(self, pool: ModelPool, route: str, slot: ModelSlot) -> None:
        self.pool, self.route, self.slot = pool, route, slot

    def __del__(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None and pool.loaded.get(self.route) is self.slot:
            pool.loaded.pop(self.route, None)


class ModelPool:
    """A pool replica: loads the deployment's models on demand (see ``pool_class``).

    Args:
        deployment: the deployment's name (its rows in the store are ``<name>/<route>``).
        models: ``{route name: model URI}``.
        tracking_uri: the tracking store with the registry.
        record: update the store's rows when a followed alias moves.
    """

    def __init__(self, deployment: str, models: dict[str, str], tracking_uri: str,
                 record: bool = True) -> None:
        kernelflow.set_tracking_uri(tracking_uri)
        self.client = kernelflow.Client(tracking_uri)
        self.deployment = deployment
        self.uris = dict(models)
        self.record = record
        self.loaded: dict[str, ModelSlot] = {}
        self.loads = 0
        self.options = dict(DEFAULT_OPTIONS)
        self.replica = f"{os.getpid()}"
        self._stop = threading.Event()
        threading.Thread(target=self._follow, name="kernelflow-alias-follower",
                         daemon=True).start()

    def reconfigure(self, config: dict) -> None:
        """Apply options sent as ``user_config`` (polling of followed aliases)."""
        self.options = {**DEFAULT_OPTIONS, **(config or {})}

    async def load(self, route: str) -> _Held:
        """Load ``route``'s model (what ``@serve.multiplexed`` wraps in ``pool_class``)."""
        if route not in self.uris:
            raise KeyError(route)
        slot = await asyncio.to_thread(_load, self.uris[route], self.client)
        self.loaded[route] = slot
        self.loads += 1
        return _Held(self, route, slot)

    async def get_model(self, route: str) -> _Held:
        """The model for ``route`` (``pool_class`` makes this the multiplexed, LRU-bound
        loader; here it loads every time)."""
        return await self.load(route)

    # The alias follower and store rows work as in ModelServer, over the loaded models.
    _follow = ModelServer._follow
    _refresh = ModelServer._refresh
    _record = ModelServer._record

    @property
    def slots(self) -> dict[str, ModelSlot]:
        return dict(self.loaded)

    @property
    def default(self) -> None:  # rows are always <deployment>/<route>
        return None

    _row = ModelServer._row

    def __del__(self) -> None:
        self._stop.set()

    async def answer(self, body: bytes, content_type: str | None) -> tuple:
        """Score one ``/invocations`` body for the request's multiplexed model.

        Returns:
            ``(status, body bytes, media type, headers)``.
        """
        route = serve.get_multiplexed_model_id()
        try:
            held = await self.get_model(route)
        except Exception as exc:
            err = protocol.ScoringError(f"Model {route!r} could not be loaded: {exc}",
                                        status=503, error_code="TEMPORARILY_UNAVAILABLE")
            return self._error(err, route, None)
        slot = held.slot
        try:
            parsed = protocol.parse_request(body, content_type)
            protocol.cast_to_signature(parsed, slot.model.signature)
        except protocol.ScoringError as err:
            return self._error(err, route, slot.resolved)
        ((outcome, resolved),) = await asyncio.to_thread(predict_many, {route: slot},
                                                         [(route, parsed)])
        if isinstance(outcome, protocol.ScoringError):
            return self._error(outcome, route, resolved)
        return 200, outcome, "application/json", self._headers(resolved)

    def _headers(self, resolved: Any) -> dict[str, str]:
        headers = {REPLICA_HEADER: self.replica, LOADED_HEADER: str(len(self.loaded)),
                   LOADS_HEADER: str(self.loads)}
        if resolved is not None:
            headers.update({NAME_HEADER: resolved.name, VERSION_HEADER: resolved.version or "",
                            ALIAS_HEADER: resolved.alias or ""})
        return headers

    def _error(self, err: protocol.ScoringError, route: str, resolved: Any) -> tuple:
        body, media = err.body()
        return err.status, body, media, self._headers(resolved)


def pool_class(max_models_per_replica: int) -> type:
    """A ``ModelPool`` whose loader is ``@serve.multiplexed`` with this LRU bound."""

    class MultiplexedModelPool(ModelPool):
        @serve.multiplexed(max_num_models_per_replica=max_models_per_replica)
        async def get_model(self, route: str) -> _Held:
            return await self.load(route)

    return MultiplexedModelPool


class ModelRouter:
    """The ingress of a multiplexed deployment: HTTP in front of the pool.

    Args:
        deployment: the deployment's name.
        models: ``{route name: model URI}``.
        pool: the pool's ``DeploymentHandle``.
        tracking_uri: where traces go (with ``trace`` in the options).
        direct: ``(host, port)`` to answer HTTP on from this replica (direct ingress).
    """

    def __init__(self, deployment: str, models: dict[str, str], pool: Any, tracking_uri: str,
                 direct: tuple[str, int] | None = None) -> None:
        self.deployment = deployment
        self.tracking_uri = tracking_uri
        self.uris = dict(models)
        self.pool = pool
        self.options = dict(DEFAULT_OPTIONS)
        self.default = next(iter(self.uris)) if len(self.uris) == 1 else None
        if direct:
            self._listen(*direct)

    def reconfigure(self, config: dict) -> None:
        """Apply options sent as ``user_config`` (timeout, body limit, tracing)."""
        self.options = {**DEFAULT_OPTIONS, **(config or {})}
        if self.options.get("trace"):
            from kernelflow import tracing

            tracing.set_destination(tracking_uri=self.tracking_uri)

    _listen = ModelServer._listen
    _asgi = ModelServer._asgi

    async def __call__(self, request: Request) -> Response:
        path = request.scope.get("path", "/")
        root = request.scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        path = path.rstrip("/") or "/"
        route = self.default
        if path.startswith("/models/") and path.count("/") == 3:
            route, path = path.split("/")[2], "/" + path.split("/")[3]
            if route not in self.uris:
                return _json({"error_code": "RESOURCE_DOES_NOT_EXIST",
                              "message": f"No model {route!r} is served here; served: "
                                         f"{sorted(self.uris)}."}, 404)
        if path in ("/ping", "/health"):
            return Response("\n", media_type="application/json")
        if path == "/version":
            return Response(kernelflow.__version__, media_type="application/json")
        if path == "/models":
            return _json({r: {"model_uri": u} for r, u in self.uris.items()})
        if path != "/invocations":
            return _json({"detail": "Not Found"}, 404)
        if request.method != "POST":
            return _json({"detail": "Method Not Allowed"}, 405)
        if route is None:
            return _json({"error_code": "RESOURCE_DOES_NOT_EXIST",
                          "message": f"Several models are served here: POST to "
                                     f"/models/<name>/invocations, one of {sorted(self.uris)}."},
                         404)
        if not self.options.get("trace"):
            return await self._forward(request, route)
        attributes = {"kernelflow.deployment": self.deployment, "model.name": route}
        return await traced_invocation(self.deployment, request, attributes,
                                       lambda: self._forward(request, route))

    async def _forward(self, request: Request, route: str) -> Response:
        limit = int(float(self.options["max_body_mb"]) * 1024 * 1024)
        body, size = await read_body(request, limit)
        if body is None:
            err = too_large(size, limit)
            return self._response(err.status, *err.body(), {})
        call = self.pool.options(multiplexed_model_id=route).answer.remote(
            body, request.headers.get("content-type"))
        try:
            status, out, media, headers = await asyncio.wait_for(
                _result(call), float(self.options["timeout_s"]))
        except asyncio.TimeoutError:
            err = protocol.ScoringError("Request processing time exceeded limit", status=504,
                                        error_code="DEADLINE_EXCEEDED")
            return self._response(err.status, *err.body(), {})
        return self._response(status, out, media, headers)

    @staticmethod
    def _response(status: int, body: bytes, media: str, headers: dict) -> Response:
        return Response(body, status_code=status, media_type=media, headers=headers)


async def _result(call: Any) -> Any:
    return await call


def build_multiplexed(deployment: str, models: dict[str, str], tracking_uri: str, *,
                      options: dict, user_config: dict, max_models_per_replica: int,
                      record: bool = True, direct: tuple[str, int] | None = None) -> Any:
    """The Ray Serve application: a ``ModelRouter`` ingress over a multiplexed pool.

    Args:
        options: Ray Serve options for the pool (replicas or autoscaling, CPUs).
        max_models_per_replica: the LRU bound of each pool replica.
    """
    pool = serve.deployment(pool_class(max_models_per_replica), name="ModelPool",
                            user_config=user_config, **options)
    router_options = {"ray_actor_options": dict(options.get("ray_actor_options", {})),
                      "max_ongoing_requests": max(256, options.get("max_ongoing_requests", 64)),
                      "num_replicas": 1, "health_check_period_s": 2.0,
                      "graceful_shutdown_wait_loop_s": 0.5, "graceful_shutdown_timeout_s": 5.0}
    router = serve.deployment(ModelRouter, name="ModelRouter", user_config=user_config,
                              **router_options)
    return router.bind(deployment, models, pool.bind(deployment, models, tracking_uri, record),
                       tracking_uri, direct)
