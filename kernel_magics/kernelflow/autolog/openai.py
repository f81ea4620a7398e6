"""OpenAI SDK autolog: ``chat.completions.create`` and ``embeddings.create`` become spans.

Sync and async clients alike (the SDK's resource classes are patched, so
clients made before ``autolog()`` are traced too). Streams end their span when
they end. The cost is filled in when litellm is already imported (its local
cost map); the OpenAI SDK alone does not price calls.
"""

from __future__ import annotations

import sys
from typing import Any

from .hooks import when_imported
from .llm import CallInfo, patch_attr, unpatch_all

FRAMEWORK = "openai"
_saved: list = []
_options: dict[str, Any] = {"enabled": False}


def _provider(kwargs: dict) -> str:
    return "openai"


def _cost(model: str | None, usage: dict | None, response: Any) -> dict | None:
    litellm = sys.modules.get("litellm")
    if litellm is None or not usage or not model:
        return None
    try:
        inp, out = litellm.cost_per_token(model=model, prompt_tokens=usage["input_tokens"],
                                          completion_tokens=usage["output_tokens"])
    except Exception:
        return None
    return {"input_cost": inp, "output_cost": out, "total_cost": inp + out}


CHAT = CallInfo("openai.chat.completions.create", "CHAT_MODEL", _provider, _cost)
EMBED = CallInfo("openai.embeddings.create", "EMBEDDING", _provider, _cost)


def _patch(module: Any) -> None:
    if not _options["enabled"]:
        return
    from openai.resources import embeddings
    from openai.resources.chat import completions

    patch_attr(completions.Completions, "create", CHAT, _saved)
    patch_attr(completions.AsyncCompletions, "create", CHAT, _saved, is_async=True)
    patch_attr(embeddings.Embeddings, "create", EMBED, _saved)
    patch_attr(embeddings.AsyncEmbeddings, "create", EMBED, _saved, is_async=True)


def enable(disable: bool = False, **_: Any) -> None:
    """Turn OpenAI autolog on (or off with ``disable=True``)."""
    _options["enabled"] = not disable
    if disable:
        unpatch_all(_saved)
    else:
        when_imported("openai", _patch)
