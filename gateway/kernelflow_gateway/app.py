"""The gateway's HTTP API: OpenAI's (``/v1/...``) and MLflow's gateway endpoints.

``create_app(gateway)`` returns a Starlette app whose routes are small async functions
over a :class:`~kernelflow_gateway.router.Gateway`; tests drive it in-process with
httpx's ``ASGITransport`` or over a real port with the ``openai`` SDK and
``mlflow.deployments``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route as HttpRoute

from .config import GatewayConfigError, load_config
from .errors import GatewayError, error_body, from_exception
from .router import Gateway

__all__ = ["create_app"]

log = logging.getLogger("kernelflow.gateway")


class _JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), default=str).encode()


def _error(error: GatewayError) -> Response:
    return _JSON(error.body(), status_code=error.http_status, headers=error.headers())


async def _body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise GatewayError("The request body is not valid JSON.", 400,
                           code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError("The request body must be a JSON object.", 400, code="invalid_body")
    return body


def _sse(chunks: AsyncIterator[dict]) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
        except GatewayError as error:  # the stream broke after it started: say so in-band
            yield b"data: " + json.dumps(error.body()).encode() + b"\n\n"
            return
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def create_app(gateway: Gateway, watch: bool = False) -> Starlette:
    """The ASGI app serving ``gateway``.

    Args:
        gateway: the engine (routes, keys, limits, records).
        watch: reload the config when its file changes (checked every second).
    """

    async def guarded(request: Request, handler: Any) -> Response:
        try:
            key = gateway.authenticate(request.headers)
            return await handler(request, key)
        except GatewayError as error:
            return _error(error)
        except Exception as exc:  # never a traceback to a client
            log.exception("kernelflow gateway: unexpected error")
            return _error(from_exception(exc))

    async def call(kind: str, request: Request, key: Any, body: dict | None = None) -> Response:
        body = body if body is not None else await _body(request)
        if kind == "chat" and body.get("stream"):
            return _sse(await gateway.stream(body, request.headers, key))
        return _JSON(await gateway.call(kind, body, request.headers, key))

    async def chat(request: Request) -> Response:
        return await guarded(request, lambda r, k: call("chat", r, k))

    async def completions(request: Request) -> Response:
        return await guarded(request, lambda r, k: call("completions", r, k))

    async def embeddings(request: Request) -> Response:
        return await guarded(request, lambda r, k: call("embeddings", r, k))

    def model_entry(route: Any) -> dict:
        return {"id": route.name, "object": "model", "created": 0, "owned_by": route.provider}

    async def models(request: Request) -> Response:
        async def handler(r: Request, key: Any) -> Response:
            routes = [x for x in gateway.config.routes.values()
                      if key is None or not key.routes or x.name in key.routes]
            return _JSON({"object": "list", "data": [model_entry(x) for x in routes]})
        return await guarded(request, handler)

    async def model(request: Request) -> Response:
        async def handler(r: Request, key: Any) -> Response:
            name = r.path_params["name"]
            route = gateway.config.routes.get(name)
            if route is None:
                raise GatewayError(f"No route named {name!r}.", 404, code="model_not_found")
            return _JSON(model_entry(route))
        return await guarded(request, handler)

    async def health(request: Request) -> Response:
        return _JSON({"status": "OK", "routes": len(gateway.config.routes)})

    # -- MLflow's gateway API ------------------------------------------------------
    def endpoint_entry(route: Any, request: Request) -> dict:
        limit = {"calls": route.rpm, "key": None, "renewal_period": "minute"} \
            if route.rpm else None
        return {"name": route.name, "endpoint_type": route.endpoint_type,
                "model": {"name": route.model, "provider": route.provider},
                "endpoint_url": f"/gateway/{route.name}/invocations", "limit": limit}

    def mlflow_endpoint(name: str) -> Any:
        """The route MLflow's endpoint API names, or a 404 listing the endpoints."""
        route = gateway.config.routes.get(name)
        if route is None:
            raise GatewayError(f"No endpoint named {name!r}. Endpoints: "
                               f"{', '.join(gateway.config.routes)}.", 404,
                               code="endpoint_not_found")
        return route

    async def endpoints(request: Request) -> Response:
        async def handler(r: Request, key: Any) -> Response:
            return _JSON({"endpoints": [endpoint_entry(x, r)
                                        for x in gateway.config.routes.values()]})
        return await guarded(request, handler)

    async def endpoint(request: Request) -> Response:
        async def handler(r: Request, key: Any) -> Response:
            name = r.path_params["name"]
            route = mlflow_endpoint(name)
            return _JSON(endpoint_entry(route, r))
        return await guarded(request, handler)

    async def invocations(request: Request) -> Response:
        async def handler(r: Request, key: Any) -> Response:
            name = r.path_params["name"]
            route = mlflow_endpoint(name)
            body = {**await _body(r), "model": name}
            return await call(route.type, r, key, body)
        return await guarded(request, handler)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = None
        if watch and gateway.config.path:
            task = asyncio.create_task(_watch(gateway))
            # only a main thread may take signals (not a Ray replica, not a test's thread)
            with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError,
                                     ValueError):
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(
                    asyncio.to_thread(reload_config, gateway)))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            await gateway.aclose()

    routes = [
        HttpRoute("/v1/chat/completions", chat, methods=["POST"]),
        HttpRoute("/chat/completions", chat, methods=["POST"]),
        HttpRoute("/v1/completions", completions, methods=["POST"]),
        HttpRoute("/completions", completions, methods=["POST"]),
        HttpRoute("/v1/embeddings", embeddings, methods=["POST"]),
        HttpRoute("/embeddings", embeddings, methods=["POST"]),
        HttpRoute("/v1/models", models, methods=["GET"]),
        HttpRoute("/models", models, methods=["GET"]),
        HttpRoute("/v1/models/{name:path}", model, methods=["GET"]),
        HttpRoute("/health", health, methods=["GET"]),
        HttpRoute("/api/2.0/endpoints/", endpoints, methods=["GET"]),
        HttpRoute("/api/2.0/endpoints/{name}", endpoint, methods=["GET"]),
        HttpRoute("/endpoints/{name}/invocations", invocations, methods=["POST"]),
        HttpRoute("/gateway/{name}/invocations", invocations, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.gateway = gateway
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return _JSON(error_body(f"No such path: {request.method} {request.url.path}. The gateway "
                            "serves /v1/chat/completions, /v1/completions, /v1/embeddings, "
                            "/v1/models and /health.", "invalid_request_error", "not_found"),
                 status_code=404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _JSON(error_body(f"{request.method} is not allowed on {request.url.path}.",
                            "invalid_request_error", "method_not_allowed"), status_code=405)


def reload_config(gateway: Gateway) -> bool:
    """Re-read the gateway's config file and swap it in; False (and a log line) if invalid."""
    path = gateway.config.path
    if not path:
        return False
    try:
        gateway.reload(load_config(path))
    except GatewayConfigError as exc:
        log.error("kernelflow gateway: config not reloaded, keeping the old one: %s", exc)
        return False
    log.warning("kernelflow gateway: reloaded %s (%d routes)", path, len(gateway.config.routes))
    return True


async def _watch(gateway: Gateway, interval: float = 1.0) -> None:
    path = gateway.config.path
    assert path is not None

    def mtime() -> float:
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return 0

    seen = mtime()
    while True:
        await asyncio.sleep(interval)
        now = mtime()
        if now and now != seen:
            seen = now
            await asyncio.to_thread(reload_config, gateway)
