"""The gateway's engine: one ``litellm.Router`` plus keys, limits, cache, records and traces.

:class:`Gateway` is what the HTTP app, the in-process Python API and ``%%kf llm`` call.
The router is built from a :class:`~kernelflow_gateway.config.GatewayConfig`; a reload
builds a new one and swaps it in, so calls in flight finish on the old one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402

from . import tracing  # noqa: E402
from .cache import ResponseCache  # noqa: E402
from .config import GatewayConfig, Route, redact  # noqa: E402
from .errors import GatewayError, from_exception  # noqa: E402
from .limits import Limiter  # noqa: E402
from .provider import register_kernelflow_provider  # noqa: E402
from .recorder import CallRecorder  # noqa: E402

__all__ = ["Gateway", "build_router"]

litellm.suppress_debug_info = True
litellm.telemetry = False


class _Redact(logging.Filter):
    """Blank provider secrets out of log lines (litellm logs its errors in full)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "kernelflow.gateway",
              "uvicorn.error", "httpx"):
    logging.getLogger(_name).addFilter(_Redact())

_REQUIRED = {"chat": "messages", "completions": "prompt", "embeddings": "input"}
_OWN_FIELDS = {"model", "stream", "stream_options", "user", "metadata"}
# OpenAI's request parameters, per call kind. Anything else is refused: litellm would also
# take api_key, api_base, headers ... from a client and send the gateway's secret elsewhere.
_COMMON = {"temperature", "top_p", "n", "stop", "max_tokens", "presence_penalty",
           "frequency_penalty", "logit_bias", "seed", "logprobs", "top_logprobs",
           "service_tier", "store"}
_ALLOWED = {
    "chat": _COMMON | {"messages", "max_completion_tokens", "response_format", "tools",
                       "tool_choice", "parallel_tool_calls", "functions", "function_call",
                       "reasoning_effort", "modalities", "prediction", "audio"},
    "completions": _COMMON | {"prompt", "suffix", "echo", "best_of"},
    "embeddings": {"input", "dimensions", "encoding_format"},
}


def build_router(config: GatewayConfig, client: Any = None) -> litellm.Router:
    """A ``litellm.Router`` over every route of ``config``.

    Args:
        config: the routes and router settings.
        client: the ``kernelflow.Client`` the ``kernelflow/`` provider reads deployments from.
    """
    if any(r.provider == "kernelflow" for r in config.routes.values()):
        register_kernelflow_provider(client)
    settings = dict(config.router_settings)
    settings.setdefault("num_retries", 0)
    return litellm.Router(model_list=config.model_list(), **settings)


class Gateway:
    """Routes calls through litellm and does the keys, limits, cache, records and traces.

    Args:
        config: the routes and router settings.
        client: a ``kernelflow.Client`` for keys, shared limits and call records (None:
            no keys, in-memory limits, nothing recorded).
        experiment: the experiment traces go to.
        token: a bearer token that is always accepted (an admin token).
        shared_limits: count rate limits in the store (for several workers).
        router: a ready ``litellm.Router`` (a seam for tests); built from ``config`` if None.
        process_wide: this process is the gateway's own: its traces all go to
            ``experiment`` (see :class:`~kernelflow_gateway.tracing.Tracer`).
    """

    def __init__(self, config: GatewayConfig, client: Any = None,
                 experiment: str | None = "gateway",
                 token: str | None = None, shared_limits: bool = False,
                 router: litellm.Router | None = None, process_wide: bool = False) -> None:
        self.config = config
        self.router = router or build_router(config, client)
        self.client = client
        self.token = token
        self.experiment = experiment
        self.limiter = Limiter(client if shared_limits else None)
        self.cache = ResponseCache(config.cache_ttl)
        self.recorder = CallRecorder(client) if client is not None else None
        self._tracer = tracing.Tracer(client, experiment, process_wide) \
            if client is not None else None
        self._keys_checked = 0.0
        self._keys_exist = False

    # -- configuration ------------------------------------------------------------
    def reload(self, config: GatewayConfig) -> None:
        """Swap in a new configuration; calls in flight finish on the old router."""
        router = build_router(config, self.client)
        self.config, self.router = config, router
        self.cache = ResponseCache(config.cache_ttl)

    def close(self) -> None:
        """Write the calls still queued."""
        if self.recorder is not None:
            self.recorder.close()

    def route(self, name: Any, kind: str) -> Route:
        """The route called ``name``, checked to serve ``kind`` calls."""
        if not isinstance(name, str) or not name:
            raise GatewayError("'model' is required: the name of a route. "
                               f"Routes: {', '.join(self.config.routes)}.", 400,
                               code="missing_model")
        route = self.config.routes.get(name)
        if route is None:
            raise GatewayError(f"No route named {name!r}. Routes: "
                               f"{', '.join(self.config.routes)}.", 404,
                               code="model_not_found")
        if route.type != kind:
            raise GatewayError(f"Route {name!r} serves {route.type} calls, not {kind}.", 400,
                               code="wrong_route_type")
        return route

    # -- keys ---------------------------------------------------------------------
    def authenticate(self, headers: Mapping[str, str]) -> Any:
        """The ``GatewayKey`` of a request (None for the admin token or an open gateway).

        Raises:
            GatewayError: 401 when a key is needed and missing, unknown or revoked.
        """
        secret = _bearer(headers)
        if secret and self.token and secret == self.token:
            return None
        if secret and secret.startswith("kfk-") and self.client is not None:
            key = self.client.verify_gateway_key(secret)
            if key is None or not key.active:
                raise GatewayError("This gateway key is unknown or revoked. Ask for a new one "
                                   "(kernelflow gateway keys create).", 401,
                                   "authentication_error", "invalid_api_key")
            return key
        if self.token or self._any_keys():
            raise GatewayError("This gateway needs an API key: send 'Authorization: Bearer "
                               "<key>'.", 401, "authentication_error", "missing_api_key")
        return None

    def _any_keys(self) -> bool:
        if self.client is None:
            return False
        now = time.monotonic()
        if now - self._keys_checked > 2.0:
            self._keys_exist = self.client.count_gateway_keys() > 0
            self._keys_checked = now
        return self._keys_exist

    def admit(self, route: Route, key: Any) -> None:
        """Check the key's routes and budget and the rate limits; 403/429 when refused."""
        if key is not None:
            if key.routes and route.name not in key.routes:
                raise GatewayError(f"Key {key.name!r} may not call route {route.name!r}; "
                                   f"it may call {', '.join(key.routes)}.", 403,
                                   "permission_error", "route_not_allowed")
            if key.budget is not None and key.spend >= key.budget:
                raise GatewayError(f"Key {key.name!r} has used its budget of "
                                   f"${key.budget:.2f} (spent ${key.spend:.4f}). Ask for a "
                                   "bigger budget or a new key.", 429, "rate_limit_error",
                                   "budget_exceeded", retry_after=3600)
            self.limiter.hit(f"key:{key.name}", key.rpm, key.tpm, f"key {key.name!r}")
        self.limiter.hit(f"route:{route.name}", route.rpm, route.tpm, f"route {route.name!r}")

    # -- calls --------------------------------------------------------------------
    async def call(self, kind: str, body: dict, headers: Mapping[str, str] | None = None,
                   key: Any = None) -> dict:
        """One non-streaming call; returns the OpenAI-format response body."""
        route, params = self._prepare(kind, body)
        self.admit(route, key)
        record = self._new_record(route, key, stream=False)
        cached = self.cache.get(kind, body)
        with self._span(route, kind, params, headers, record) as span:
            if cached is not None:
                record.update(cached=1, status=200)
                span.finish(cached, record)
                self._finish(record)
                return cached
            try:
                response = await self._invoke(kind, route, params, stream=False)
            except Exception as exc:
                error = from_exception(exc)
                record.update(status=error.http_status, error=error.message)
                span.fail(error, record)
                self._finish(record)
                raise error from None
            data = _dump(response)
            _usage_into(record, data.get("usage"))
            _hidden_into(record, response)
            span.finish(data, record)
        self._finish(record)
        self.cache.put(kind, body, data)
        return data

    async def stream(self, body: dict, headers: Mapping[str, str] | None = None,
                     key: Any = None) -> AsyncIterator[dict]:
        """A streaming chat call: yields OpenAI chunks; a failure mid-way raises GatewayError.

        The checks run before the first chunk is asked for, so refusals raise at once.
        """
        route, params = self._prepare("chat", body)
        self.admit(route, key)
        want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        record = self._new_record(route, key, stream=True)
        span = self._span(route, "chat", params, headers, record)
        span.__enter__()
        try:
            response = await self._invoke("chat", route, params, stream=True)
        except Exception as exc:
            error = from_exception(exc)
            record.update(status=error.http_status, error=error.message)
            span.fail(error, record)
            span.__exit__(None, None, None)
            self._finish(record)
            raise error from None
        return self._chunks(response, route, record, span, want_usage)

    async def _chunks(self, response: Any, route: Route, record: dict, span: Any,
                      want_usage: bool) -> AsyncIterator[dict]:
        text: list[str] = []
        try:
            async for chunk in response:
                data = chunk if isinstance(chunk, dict) else chunk.model_dump(exclude_none=True)
                if record["ttfb_ms"] is None:
                    record["ttfb_ms"] = (time.perf_counter() - record["_start"]) * 1000
                for choice in data.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        text.append(content)
                if data.get("usage"):
                    _usage_into(record, data["usage"])
                    if not data.get("choices") and not want_usage:
                        continue
                    if not want_usage:
                        data.pop("usage", None)
                yield data
        except Exception as exc:
            error = from_exception(exc)
            record.update(status=error.http_status, error=error.message)
            span.fail(error, record)
            raise error from None
        else:
            record["cost"] = _stream_cost(route, record)
            span.finish({"choices": [{"message": {"role": "assistant",
                                                  "content": "".join(text)}}]}, record)
        finally:
            span.__exit__(None, None, None)
            self._finish(record)

    # -- helpers ------------------------------------------------------------------
    def _prepare(self, kind: str, body: Any) -> tuple[Route, dict]:
        if not isinstance(body, dict):
            raise GatewayError("The request body must be a JSON object.", 400,
                               code="invalid_body")
        route = self.route(body.get("model"), kind)
        field = _REQUIRED[kind]
        value = body.get(field)
        if value is None or (kind == "chat" and (not isinstance(value, list) or not value)):
            raise GatewayError(f"'{field}' is required" + (
                " (a non-empty list of {role, content} messages)" if kind == "chat" else "")
                + ".", 400, code=f"missing_{field}")
        if body.get("stream") and kind != "chat":
            raise GatewayError(f"Streaming is available for chat completions only, not {kind}.",
                               400, code="stream_not_supported")
        params = {k: v for k, v in body.items() if k not in _OWN_FIELDS}
        unknown = sorted(set(params) - _ALLOWED[kind])
        if unknown:
            raise GatewayError(f"Unrecognized request argument supplied: {', '.join(unknown)}. "
                               f"The gateway takes OpenAI's {kind} parameters.", 400,
                               code="unknown_parameter")
        return route, params

    async def _invoke(self, kind: str, route: Route, params: dict, stream: bool) -> Any:
        router = self.router
        if kind == "chat":
            extra = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
            return await router.acompletion(model=route.name, **params, **extra)
        if kind == "completions":
            return await router.atext_completion(model=route.name, **params)
        return await router.aembedding(model=route.name, **params)

    def _new_record(self, route: Route, key: Any, stream: bool) -> dict:
        return {"call_id": uuid.uuid4().hex, "time": int(time.time() * 1000),
                "route": route.name, "provider": route.provider, "model": route.model,
                "key_name": key.name if key is not None else None, "status": 200,
                "latency_ms": None, "ttfb_ms": None, "prompt_tokens": 0,
                "completion_tokens": 0, "cost": 0.0, "trace_id": None, "error": None,
                "fallbacks": 0, "stream": int(stream), "cached": 0, "experiment_id": None,
                "_start": time.perf_counter(), "_key": key}

    def _span(self, route: Route, kind: str, params: dict, headers: Any, record: dict) -> Any:
        if self._tracer is None:
            return tracing.NO_SPAN
        return self._tracer.span(route, kind, params, headers, record)

    def _finish(self, record: dict) -> None:
        record["latency_ms"] = (time.perf_counter() - record.pop("_start")) * 1000
        key = record.pop("_key")
        tokens = (record["prompt_tokens"] or 0) + (record["completion_tokens"] or 0)
        if tokens:
            if key is not None and key.tpm:
                self.limiter.add_tokens(f"key:{key.name}", tokens)
            route = self.config.routes.get(record["route"])
            if route is not None and route.tpm:
                self.limiter.add_tokens(f"route:{route.name}", tokens)
        if record["error"]:
            record["error"] = redact(record["error"])[:2000]
        if self.recorder is not None:
            self.recorder.add(record)

    async def aclose(self) -> None:
        """Async form of :meth:`close`."""
        await asyncio.to_thread(self.close)


def _bearer(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization") or headers.get("Authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get("x-api-key") or headers.get("api-key")


def _dump(response: Any) -> dict:
    if isinstance(response, dict):
        return response
    data = response.model_dump()
    for choice in data.get("choices") or []:
        message = choice.get("message")
        if isinstance(message, dict):  # litellm's additions, noise for clients
            for k in ("provider_specific_fields", "function_call", "tool_calls"):
                if message.get(k) in (None, {}, []):
                    message.pop(k, None)
        choice.pop("provider_specific_fields", None)
    return data


def _usage_into(record: dict, usage: Any) -> None:
    if isinstance(usage, dict):
        record["prompt_tokens"] = usage.get("prompt_tokens") or 0
        record["completion_tokens"] = usage.get("completion_tokens") or 0


def _hidden_into(record: dict, response: Any) -> None:
    hidden = getattr(response, "_hidden_params", None) or {}
    record["cost"] = float(hidden.get("response_cost") or 0.0)
    model = hidden.get("litellm_model_name")
    if model:
        record["provider"], _, record["model"] = model.partition("/") if "/" in model \
            else (record["provider"], "", model)
    headers = hidden.get("additional_headers") or {}
    record["fallbacks"] = int(headers.get("x-litellm-attempted-fallbacks") or 0)


def _stream_cost(route: Route, record: dict) -> float:
    model = route.deployments[0]["litellm_params"]["model"] if route.deployments else ""
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=record["prompt_tokens"],
            completion_tokens=record["completion_tokens"])
        return float(prompt + completion)
    except Exception:  # a model missing from the cost map costs nothing we know of
        return 0.0
