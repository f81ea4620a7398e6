"""litellm calls as traces: ``kernelflow.litellm.autolog()``."""

from __future__ import annotations

from typing import Any


def autolog(disable: bool = False, **kwargs: Any) -> None:
    """Trace every ``litellm.completion`` / ``acompletion`` / ``embedding`` call.

    Each call becomes a ``CHAT_MODEL`` or ``EMBEDDING`` span (model, provider,
    messages, output, token usage, cost from litellm's local cost map, latency);
    inside a run, its trace belongs to the run. Streams end their span when the
    stream ends.

    Args:
        disable: turn it off again.
    """
    from .autolog import litellm as _autolog

    _autolog.enable(disable=disable, **kwargs)
