"""litellm autolog: ``completion``, ``acompletion``, ``embedding``, ``aembedding`` become spans.

Each call is a ``CHAT_MODEL`` (or ``EMBEDDING``) span with the model, the
provider, messages and output, token usage and the cost from litellm's local
cost map. litellm is patched when it is imported, so calling ``autolog()``
first costs nothing.
"""

from __future__ import annotations

import os
from typing import Any

from .hooks import when_imported
from .llm import CallInfo, patch_attr, unpatch_all

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

FRAMEWORK = "litellm"
_saved: list = []
_options: dict[str, Any] = {"enabled": False}


def _provider(kwargs: dict) -> str | None:
    if provider := kwargs.get("custom_llm_provider"):
        return str(provider)
    import litellm

    try:
        return litellm.get_llm_provider(model=kwargs.get("model") or "")[1]
    except Exception:
        return None


def _cost(model: str | None, usage: dict | None, response: Any) -> dict | None:
    if not usage or not model:
        return None
    import litellm

    try:
        inp, out = litellm.cost_per_token(model=model, prompt_tokens=usage["input_tokens"],
                                          completion_tokens=usage["output_tokens"])
    except Exception:  # a model litellm does not price
        return None
    return {"input_cost": inp, "output_cost": out, "total_cost": inp + out}


def _estimate(request: dict, text: str) -> dict | None:
    """Token usage of a streamed call that reported none, counted as litellm counts it."""
    import litellm

    model = str(request.get("model") or "")
    inp = litellm.token_counter(model=model, messages=request.get("messages") or [])
    out = litellm.token_counter(model=model, text=text, count_response_tokens=True)
    return {"input_tokens": int(inp), "output_tokens": int(out), "total_tokens": int(inp + out)}


CHAT = CallInfo("litellm.completion", "CHAT_MODEL", _provider, _cost, _estimate)
ACHAT = CallInfo("litellm.acompletion", "CHAT_MODEL", _provider, _cost, _estimate)
EMBED = CallInfo("litellm.embedding", "EMBEDDING", _provider, _cost)
AEMBED = CallInfo("litellm.aembedding", "EMBEDDING", _provider, _cost)


def _patch(module: Any) -> None:
    if not _options["enabled"]:
        return
    for name, info in (("completion", CHAT), ("acompletion", ACHAT), ("embedding", EMBED),
                       ("aembedding", AEMBED)):
        patch_attr(module, name, info, _saved)


def enable(disable: bool = False, **_: Any) -> None:
    """Turn litellm autolog on (or off with ``disable=True``)."""
    _options["enabled"] = not disable
    if disable:
        unpatch_all(_saved)
    else:
        when_imported("litellm", _patch)
