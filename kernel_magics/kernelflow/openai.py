"""OpenAI SDK calls as traces: ``kernelflow.openai.autolog()``."""

from __future__ import annotations

from typing import Any


def autolog(disable: bool = False, **kwargs: Any) -> None:
    """Trace every OpenAI SDK ``chat.completions.create`` and ``embeddings.create`` call.

    Sync and async clients; each call is a ``CHAT_MODEL`` or ``EMBEDDING`` span
    with model, messages, output, token usage and latency. Streams end their
    span when the stream ends.

    Args:
        disable: turn it off again.
    """
    from .autolog import openai as _autolog

    _autolog.enable(disable=disable, **kwargs)
