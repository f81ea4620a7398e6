"""The gateway's configuration: routes, router settings, limits and cache, read from YAML.

Two formats are accepted.

LiteLLM's (``model_list`` + ``router_settings``)::

    model_list:
      - model_name: chat
        litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
    router_settings: {num_retries: 2, fallbacks: [{chat: [backup]}]}

MLflow's (``endpoints:``)::

    endpoints:
      - name: chat
        endpoint_type: llm/v1/chat
        model: {provider: openai, name: gpt-4o-mini, config: {openai_api_key: $OPENAI_API_KEY}}
        limit: {calls: 60, renewal_period: minute}

Both may add a ``kernelflow:`` section: ``routes: {NAME: {rpm, tpm, type}}`` and
``cache: {ttl: SECONDS}``. Secrets are written as ``os.environ/NAME`` or ``$NAME``;
their values are read at load time and never printed (see :func:`redact`).

This module imports no litellm: configs are checked without the heavy import.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from typing import Any

from kernelflow.errors import InvalidParameterError

__all__ = ["GatewayConfig", "GatewayConfigError", "Route", "load_config", "parse_config",
           "redact", "ROUTE_TYPES"]

ROUTE_TYPES = {"chat": "llm/v1/chat", "completions": "llm/v1/completions",
               "embeddings": "llm/v1/embeddings"}
_TYPE_BY_ENDPOINT = {v: k for k, v in ROUTE_TYPES.items()}
_MODE_TO_TYPE = {"chat": "chat", "completion": "completions", "embedding": "embeddings",
                 "embeddings": "embeddings", "completions": "completions"}
_ENV_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_SECRET_FIELDS = ("api_key", "aws_secret_access_key", "vertex_credentials", "azure_ad_token")
_RENEWAL_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# Router settings we pass to litellm.Router (a subset of its constructor, checked at load time).
ROUTER_SETTINGS = {
    "routing_strategy", "num_retries", "max_fallbacks", "timeout", "stream_timeout",
    "fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "default_fallbacks",
    "allowed_fails", "cooldown_time", "disable_cooldowns", "retry_after", "retry_policy",
    "routing_strategy_args", "enable_pre_call_checks", "model_group_alias", "allowed_fails_policy",
    "default_litellm_params", "default_max_parallel_requests",
}
ROUTING_STRATEGIES = {"simple-shuffle", "least-busy", "latency-based-routing",
                      "usage-based-routing", "usage-based-routing-v2", "cost-based-routing"}

# Every secret value read from the environment, so errors and logs can blank them out.
_secrets: set[str] = set()


class GatewayConfigError(InvalidParameterError):
    """The gateway's configuration file is missing, unreadable or not valid."""


def redact(text: str) -> str:
    """Replace every secret value loaded from a config in ``text`` by ``***``."""
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, "***")
    return text


@dataclass
class Route:
    """One name clients call (``model`` in OpenAI's API, an endpoint in MLflow's).

    Attributes:
        name: the route's name.
        type: ``chat``, ``completions`` or ``embeddings``.
        deployments: litellm ``model_list`` entries serving this name (secrets resolved).
        rpm: requests per minute over all keys (None: no limit).
        tpm: tokens per minute over all keys (None: no limit).
    """

    name: str
    type: str = "chat"
    deployments: list[dict] = field(default_factory=list)
    rpm: int | None = None
    tpm: int | None = None

    @property
    def endpoint_type(self) -> str:
        """MLflow's name of the route type (``llm/v1/chat`` ...)."""
        return ROUTE_TYPES[self.type]

    @property
    def provider(self) -> str:
        """The provider of the first deployment (``openai``, ``anthropic``, ``kernelflow``)."""
        model = self.deployments[0]["litellm_params"]["model"] if self.deployments else ""
        return model.split("/", 1)[0] if "/" in model else "openai"

    @property
    def model(self) -> str:
        """The first deployment's model name without its provider prefix."""
        model = self.deployments[0]["litellm_params"]["model"] if self.deployments else ""
        return model.split("/", 1)[1] if "/" in model else model


@dataclass
class GatewayConfig:
    """A validated gateway configuration.

    Attributes:
        routes: routes by name, in file order.
        router_settings: keyword arguments for ``litellm.Router``.
        cache_ttl: seconds an exact-match response stays cached (None: no cache).
        path: the file it was read from (None when parsed from a dict).
    """

    routes: dict[str, Route]
    router_settings: dict[str, Any] = field(default_factory=dict)
    cache_ttl: float | None = None
    path: str | None = None

    def model_list(self) -> list[dict]:
        """litellm's ``model_list``: every deployment of every route."""
        return [copy.deepcopy(d) for route in self.routes.values() for d in route.deployments]


def load_config(path: str | os.PathLike) -> GatewayConfig:
    """Read and validate a gateway config YAML file.

    Args:
        path: the YAML file.

    Raises:
        GatewayConfigError: the file is missing, not YAML, or a field is wrong (the
            message names the field).
    """
    import yaml

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise GatewayConfigError(
            f"Gateway config {path} does not exist. Pass --config with a YAML file "
            "(see the README's gateway section for examples).") from None
    except (OSError, yaml.YAMLError) as exc:
        raise GatewayConfigError(f"Gateway config {path} could not be read: {exc}") from None
    config = parse_config(data, source=path)
    config.path = os.path.abspath(path)
    return config


def parse_config(data: Any, source: str = "config") -> GatewayConfig:
    """Validate a config already loaded from YAML (a dict); see the module's docstring.

    Raises:
        GatewayConfigError: a field is missing or wrong; the message names it.
    """
    if not isinstance(data, dict):
        raise GatewayConfigError(f"{source}: expected a mapping with 'model_list' or "
                                 f"'endpoints', got {type(data).__name__}.")
    if "model_list" in data and "endpoints" in data:
        raise GatewayConfigError(f"{source}: use either 'model_list' (LiteLLM) or 'endpoints' "
                                 "(MLflow), not both.")
    if "model_list" in data:
        routes = _litellm_routes(data["model_list"], source)
        # litellm_settings also configures LiteLLM's proxy; only the router's part is used.
        settings = {k: v for k, v in _dict(data.get("litellm_settings"), "litellm_settings",
                                          source).items() if k in ROUTER_SETTINGS}
        settings.update(_dict(data.get("router_settings"), "router_settings", source))
    elif "endpoints" in data or "routes" in data:
        key = "endpoints" if "endpoints" in data else "routes"
        routes = _mlflow_routes(data[key], key, source)
        settings = _dict(data.get("router_settings"), "router_settings", source)
    else:
        raise GatewayConfigError(f"{source}: no routes. Add 'model_list' (LiteLLM format) or "
                                 "'endpoints' (MLflow format).")
    _check_router_settings(settings, routes, source)
    extra = _dict(data.get("kernelflow"), "kernelflow", source)
    for name, opts in _dict(extra.get("routes"), "kernelflow.routes", source).items():
        where = f"kernelflow.routes.{name}"
        if name not in routes:
            raise GatewayConfigError(f"{source}: {where}: no route named {name!r}.")
        opts = _dict(opts, where, source)
        routes[name].rpm = _positive_int(opts.get("rpm", routes[name].rpm), f"{where}.rpm", source)
        routes[name].tpm = _positive_int(opts.get("tpm", routes[name].tpm), f"{where}.tpm", source)
        if "type" in opts:
            routes[name].type = _route_type(opts["type"], f"{where}.type", source)
    cache = _dict(extra.get("cache"), "kernelflow.cache", source)
    ttl = cache.get("ttl")
    if ttl is not None and (not isinstance(ttl, (int, float)) or ttl <= 0):
        raise GatewayConfigError(f"{source}: kernelflow.cache.ttl must be a positive number of "
                                 f"seconds, got {ttl!r}.")
    return GatewayConfig(routes=routes, router_settings=settings, cache_ttl=ttl)


def _dict(value: Any, where: str, source: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GatewayConfigError(f"{source}: {where} must be a mapping, got "
                                 f"{type(value).__name__}.")
    return value


def _positive_int(value: Any, where: str, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise GatewayConfigError(f"{source}: {where} must be a positive integer, got {value!r}.")
    return value


def _route_type(value: Any, where: str, source: str) -> str:
    found = _TYPE_BY_ENDPOINT.get(value) or _MODE_TO_TYPE.get(value)
    if found is None:
        raise GatewayConfigError(f"{source}: {where} must be one of chat, completions, "
                                 f"embeddings (or llm/v1/...), got {value!r}.")
    return found


def _secret(value: Any, where: str, source: str) -> Any:
    """Resolve ``os.environ/NAME`` and ``$NAME`` references."""
    if not isinstance(value, str):
        return value
    name = None
    if value.startswith("os.environ/"):
        name = value[len("os.environ/"):]
    elif (m := _ENV_REF.match(value)) is not None:
        name = m.group(1)
    if name is None:
        return value
    resolved = os.environ.get(name)
    if resolved is None:
        raise GatewayConfigError(f"{source}: {where} refers to the environment variable "
                                 f"{name}, which is not set. Export it before starting the "
                                 "gateway.")
    if len(resolved) >= 4:
        _secrets.add(resolved)
    return resolved


def _resolve_params(params: dict, where: str, source: str) -> dict:
    resolved = {k: _secret(v, f"{where}.{k}", source) for k, v in params.items()}
    for k in _SECRET_FIELDS:  # literal secrets too are kept out of logs and errors
        if isinstance(resolved.get(k), str) and len(resolved[k]) >= 4:
            _secrets.add(resolved[k])
    for k in ("timeout", "stream_timeout"):
        if k in resolved and (not isinstance(resolved[k], (int, float)) or resolved[k] <= 0):
            raise GatewayConfigError(f"{source}: {where}.{k} must be a positive number of "
                                     f"seconds, got {resolved[k]!r}.")
    for k in ("rpm", "tpm", "weight"):
        if k in resolved and (isinstance(resolved[k], bool) or
                              not isinstance(resolved[k], (int, float)) or resolved[k] <= 0):
            raise GatewayConfigError(f"{source}: {where}.{k} must be a positive number, "
                                     f"got {resolved[k]!r}.")
    return resolved


def _litellm_routes(model_list: Any, source: str) -> dict[str, Route]:
    if not isinstance(model_list, list) or not model_list:
        raise GatewayConfigError(f"{source}: model_list must be a non-empty list of "
                                 "{model_name, litellm_params} entries.")
    routes: dict[str, Route] = {}
    for i, entry in enumerate(model_list):
        where = f"model_list[{i}]"
        entry = _dict(entry, where, source)
        name = entry.get("model_name")
        if not isinstance(name, str) or not name:
            raise GatewayConfigError(f"{source}: {where}.model_name is required (the name "
                                     "clients call).")
        params = _dict(entry.get("litellm_params"), f"{where}.litellm_params", source)
        model = params.get("model")
        if not isinstance(model, str) or not model:
            raise GatewayConfigError(f"{source}: {where}.litellm_params.model is required "
                                     "(e.g. openai/gpt-4o-mini).")
        info = _dict(entry.get("model_info"), f"{where}.model_info", source)
        kind = _route_type(info["mode"], f"{where}.model_info.mode", source) \
            if "mode" in info else None
        deployment = {"model_name": name,
                      "litellm_params": _resolve_params(params, f"{where}.litellm_params", source)}
        if info:
            deployment["model_info"] = dict(info)
        route = routes.setdefault(name, Route(name=name, type=kind or "chat"))
        if kind:
            route.type = kind
        route.deployments.append(deployment)
    return routes


def _mlflow_routes(endpoints: Any, key: str, source: str) -> dict[str, Route]:
    if not isinstance(endpoints, list) or not endpoints:
        raise GatewayConfigError(f"{source}: {key} must be a non-empty list of "
                                 "{name, endpoint_type, model} entries.")
    routes: dict[str, Route] = {}
    for i, entry in enumerate(endpoints):
        where = f"{key}[{i}]"
        entry = _dict(entry, where, source)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise GatewayConfigError(f"{source}: {where}.name is required.")
        if name in routes:
            raise GatewayConfigError(f"{source}: {where}.name {name!r} is used twice.")
        kind = _route_type(entry.get("endpoint_type", entry.get("route_type", "llm/v1/chat")),
                           f"{where}.endpoint_type", source)
        model = _dict(entry.get("model"), f"{where}.model", source)
        provider, model_name = model.get("provider"), model.get("name")
        if not isinstance(provider, str) or not provider:
            raise GatewayConfigError(f"{source}: {where}.model.provider is required "
                                     "(openai, anthropic, kernelflow, ...).")
        if not isinstance(model_name, str) or not model_name:
            raise GatewayConfigError(f"{source}: {where}.model.name is required.")
        params: dict[str, Any] = {"model": f"{provider}/{model_name}"}
        for k, v in _dict(model.get("config"), f"{where}.model.config", source).items():
            # MLflow spells provider settings openai_api_key, anthropic_api_base, ...
            short = k[len(provider) + 1:] if k.startswith(provider + "_") else k
            params[short] = v
        limit = _dict(entry.get("limit"), f"{where}.limit", source)
        rpm = None
        if limit:
            calls = _positive_int(limit.get("calls"), f"{where}.limit.calls", source)
            period = limit.get("renewal_period", "minute")
            if period not in _RENEWAL_SECONDS:
                raise GatewayConfigError(f"{source}: {where}.limit.renewal_period must be one "
                                         f"of {sorted(_RENEWAL_SECONDS)}, got {period!r}.")
            rpm = max(1, round((calls or 0) * 60 / _RENEWAL_SECONDS[period]))
        routes[name] = Route(name=name, type=kind, rpm=rpm, deployments=[{
            "model_name": name,
            "litellm_params": _resolve_params(params, f"{where}.model.config", source)}])
    return routes


def _check_router_settings(settings: dict, routes: dict[str, Route], source: str) -> None:
    for key in settings:
        if key not in ROUTER_SETTINGS:
            raise GatewayConfigError(f"{source}: router_settings.{key} is not a known setting. "
                                     f"Known: {', '.join(sorted(ROUTER_SETTINGS))}.")
    strategy = settings.get("routing_strategy")
    if strategy is not None and strategy not in ROUTING_STRATEGIES:
        raise GatewayConfigError(f"{source}: router_settings.routing_strategy must be one of "
                                 f"{', '.join(sorted(ROUTING_STRATEGIES))}, got {strategy!r}.")
    for key in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
        value = settings.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            raise GatewayConfigError(f"{source}: router_settings.{key} must be a list of "
                                     "{route: [fallback routes]}.")
        for j, item in enumerate(value):
            if not isinstance(item, dict):
                raise GatewayConfigError(f"{source}: router_settings.{key}[{j}] must be a "
                                         "mapping {route: [fallback routes]}.")
            for name, targets in item.items():
                for target in [name, *(targets or [])]:
                    if target not in routes:
                        raise GatewayConfigError(
                            f"{source}: router_settings.{key}[{j}] names {target!r}, which is "
                            f"not a route. Routes: {', '.join(routes)}.")
