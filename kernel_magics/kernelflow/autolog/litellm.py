"""litellm autolog: ``completion``, ``acompletion``, ``embedding``, ``aembedding`` become spans.

Each call is a ``CHAT_MODEL`` (or ``EMBEDDING``) span with the model, the
provider, messages and output, token usage and the cost from litellm's local
cost map. litellm is patched when it is imported, so calling ``autolog()``
first costs nothing.
"""

from __future__ import annotations

import os
import sys
import time
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


_INFOS = {"completion": CHAT, "acompletion": ACHAT, "embedding": EMBED, "aembedding": AEMBED}


def _patch(module: Any) -> None:
    if not _options["enabled"]:
        return
    for name, info in _INFOS.items():
        patch_attr(module, name, info, _saved)
    callbacks = getattr(module, "callbacks", None)
    if isinstance(callbacks, list):
        if not _handler:  # one handler per process: litellm copies it into its own lists
            _handler.append(_Unwrapped.make())
        if not any(c is _handler[0] for c in callbacks):
            callbacks.append(_handler[0])


_CALLBACK_LISTS = ("callbacks", "input_callback", "success_callback", "failure_callback",
                   "_async_success_callback", "_async_failure_callback",
                   "_async_input_callback")
_handler: list = []


def _unpatch() -> None:
    unpatch_all(_saved)
    module = sys.modules.get("litellm")
    for name in _CALLBACK_LISTS:  # (a copy left behind would also do nothing while disabled)
        found = getattr(module, name, None)
        if isinstance(found, list):
            found[:] = [c for c in found if not isinstance(c, _Unwrapped)]


def enable(disable: bool = False, **_: Any) -> None:
    """Turn litellm autolog on (or off with ``disable=True``)."""
    _options["enabled"] = not disable
    if disable:
        _unpatch()
    else:
        when_imported("litellm", _patch)


class _Unwrapped:
    """Traces the litellm calls that do not go through the patched functions: a
    ``from litellm import completion`` done before ``autolog()`` keeps the original
    function, but litellm still calls its callbacks (as MLflow's autolog relies on).

    The span opens in litellm's pre-call hook, in the caller's thread and context (so it
    nests under the active span), and ends in the success or failure callback with
    litellm's own end time, its usage (counted by litellm for a stream) and the cost.
    """

    _open: dict[str, Any]

    @classmethod
    def make(cls) -> Any:
        from litellm.integrations.custom_logger import CustomLogger

        class Handler(cls, CustomLogger):  # type: ignore[valid-type, misc]
            pass

        handler = Handler()
        handler._open = {}
        return handler

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict) -> None:
        try:
            from .llm import _inside, _start, pending

            if not _options["enabled"] or _inside.get():  # a patched call has its own span
                return
            info = _INFOS.get(str(kwargs.get("call_type") or ""))
            call_id = kwargs.get("litellm_call_id")
            if info is None or not call_id:
                return
            params = kwargs.get("litellm_params") or {}
            provider = params.get("custom_llm_provider") or kwargs.get("custom_llm_provider")
            name = kwargs.get("model") or model
            request: dict[str, Any] = {"model": f"{provider}/{name}" if provider and not str(
                name).startswith(f"{provider}/") else name}
            if messages is not None:
                request["messages" if info.span_type == "CHAT_MODEL" else "input"] = messages
            if kwargs.get("stream"):
                request["stream"] = True
            span = _start(info, request)
            pending.set(span)
            self._open[str(call_id)] = (info, span, time.perf_counter())
        except Exception:  # never let tracing break the call
            pass

    def _end(self, kwargs: dict, response: Any, end_time: Any, exc: Any = None) -> None:
        try:
            from .llm import _dump, _fail, _finish

            found = self._open.pop(str(kwargs.get("litellm_call_id")), None)
            if found is None:
                return
            info, span, t0 = found
            if exc is not None:
                _fail(span, exc if isinstance(exc, BaseException) else RuntimeError(str(exc)))
                return
            output = _dump(response)
            if span.attributes.get("stream"):
                try:
                    output = {"role": "assistant",
                              "content": response.choices[0].message.content}
                except Exception:
                    pass
            end_ns = int(end_time.timestamp() * 1e9) if hasattr(end_time, "timestamp") else None
            _finish(info, span, response, output, t0,
                    max(end_ns, span.start_time_ns) if end_ns else None)
        except Exception:
            pass

    def log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any,
                          end_time: Any) -> None:
        self._end(kwargs, response_obj, end_time)

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self._end(kwargs, response_obj, end_time)

    def log_failure_event(self, kwargs: dict, response_obj: Any, start_time: Any,
                          end_time: Any) -> None:
        self._end(kwargs, response_obj, end_time, kwargs.get("exception") or "failed")

    async def async_log_failure_event(self, kwargs: dict, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self._end(kwargs, response_obj, end_time, kwargs.get("exception") or "failed")
