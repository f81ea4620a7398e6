"""kernelflow's LLM gateway: one OpenAI-compatible API over LLM providers and served models.

``from kernelflow_gateway import chat, embed`` calls it from Python; ``kernelflow
gateway --config gateway.yaml`` serves it; ``create_app`` / ``Gateway`` build it in
code. Importing this package stays light: litellm and Starlette load on first use.
"""

from __future__ import annotations

from typing import Any

from .api import chat, embed

__all__ = ["chat", "embed", "create_app", "Gateway", "GatewayConfig", "load_config",
           "parse_config", "FakeProvider", "serve"]

_LAZY = {
    "create_app": "app",
    "Gateway": "router",
    "GatewayConfig": "config",
    "load_config": "config",
    "parse_config": "config",
    "FakeProvider": "fake",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kernelflow_gateway' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
