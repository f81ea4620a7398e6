"""What litellm and OpenAI autolog share: a span around one LLM call, streams included.

:func:`traced_call` wraps a client function so every call becomes a
``CHAT_MODEL`` (or ``EMBEDDING``) span with the request as inputs, the response
as outputs, and MLflow's attributes: ``mlflow.llm.model``,
``mlflow.llm.provider``, ``mlflow.chat.tokenUsage`` and ``mlflow.llm.cost``.
A streamed response is handed back wrapped: the span ends when the stream is
exhausted, closed or fails, with the assembled text as outputs. Tracing errors
are swallowed; the call's own errors are recorded on the span and re-raised.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
import time
from collections.abc import Callable
from typing import Any

from ..tracing.spans import _CURRENT, LiveSpan, new_span

# True while a traced call runs: litellm calls the OpenAI SDK inside, and one call is one span.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("kernelflow_llm_call", default=False)
# The span of a litellm call traced through its callbacks (no wrapper around it): while it is
# open, the OpenAI SDK call litellm makes inside is not a second span.
pending: contextvars.ContextVar[Any] = contextvars.ContextVar("kernelflow_llm_pending",
                                                             default=None)


def _skip() -> bool:
    """True inside a traced call, or inside litellm while a call it traces through its
    callbacks is open (litellm's own use of the OpenAI SDK is not a second span)."""
    if _inside.get():
        return True
    span = pending.get()
    return span is not None and span.end_time_ns is None and _called_from_litellm()


def _called_from_litellm() -> bool:
    frame: Any = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("litellm."):
            return True
        frame = frame.f_back
    return False
SECRET_KEYS = {"api_key", "headers", "extra_headers", "client", "http_client", "aws_secret_access_key"}


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(exclude_none=True)
        except Exception:
            pass
    return value


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def usage_of(response: Any) -> dict | None:
    """MLflow's token usage dict from an OpenAI-shaped ``usage``, or None."""
    usage = _get(response, "usage")
    if usage is None:
        return None
    inp, out = _get(usage, "prompt_tokens"), _get(usage, "completion_tokens")
    total = _get(usage, "total_tokens")
    if inp is None and out is None and total is None:
        return None
    inp, out = int(inp or 0), int(out or 0)
    return {"input_tokens": inp, "output_tokens": out, "total_tokens": int(total or inp + out)}


class CallInfo:
    """How one client describes its calls: span type, model/provider, cost."""

    def __init__(self, name: str, span_type: str, provider: Callable[[dict], str | None],
                 cost: Callable[[str | None, dict | None, Any], dict | None] | None = None,
                 estimate: Callable[[dict, str], dict | None] | None = None) -> None:
        self.name = name
        self.span_type = span_type
        self.provider = provider
        self.cost = cost
        # Token usage of a stream that reported none, from the request and the text.
        self.estimate = estimate


def _signature(func: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def _named(sig: inspect.Signature | None, args: tuple, kwargs: dict) -> dict:
    """The call's arguments by name: ``completion("gpt-4o", msgs)`` names model and messages."""
    if not args or sig is None:
        return kwargs
    try:
        bound = sig.bind_partial(*args, **kwargs)
    except TypeError:
        return kwargs
    named: dict = {}
    for name, value in bound.arguments.items():
        kind = sig.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                named[name] = list(value)
        elif name != "self":
            named[name] = value
    return named


def _start(info: CallInfo, kwargs: dict) -> LiveSpan:
    span = new_span(info.name, info.span_type)
    try:
        span.set_inputs({k: v for k, v in kwargs.items() if k not in SECRET_KEYS})
        model = kwargs.get("model")
        span.attributes["mlflow.llm.model"] = model
        if provider := info.provider(kwargs):
            span.attributes["mlflow.llm.provider"] = provider
        if "stream" in kwargs:
            span.attributes["stream"] = bool(kwargs["stream"])
        span.attributes["mlflow.message.format"] = "openai"
    except Exception:  # never let tracing break the call
        pass
    return span


def _finish(info: CallInfo, span: LiveSpan, response: Any, output: Any, t0: float,
            end_time_ns: int | None = None) -> None:
    try:
        span.set_outputs(output)
        usage = usage_of(response)
        if usage:
            span.attributes["mlflow.chat.tokenUsage"] = usage
        if info.cost is not None:
            cost = info.cost(span.attributes.get("mlflow.llm.model"), usage, response)
            if cost:
                span.attributes["mlflow.llm.cost"] = cost
        span.attributes["latency_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    except Exception:
        pass
    span.end(end_time_ns=end_time_ns)


def _fail(span: LiveSpan, exc: BaseException) -> None:
    span.record_exception(exc)
    span.end()


def _is_stream(kwargs: dict, response: Any) -> bool:
    return bool(kwargs.get("stream")) and not hasattr(response, "choices") and (
        hasattr(response, "__iter__") or hasattr(response, "__aiter__"))


def traced_call(info: CallInfo, func: Callable, is_async: bool | None = None) -> Callable:
    """Wrap a (sync or async) client call so each call records a span.

    ``is_async`` says the call returns an awaitable when ``inspect`` cannot tell
    (the OpenAI SDK's async methods are wrapped by a plain decorator).
    """
    sig = _signature(func)
    if is_async or (is_async is None and inspect.iscoroutinefunction(func)):
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            if _skip():
                return await func(*args, **kwargs)
            named = _named(sig, args, kwargs)
            span, t0 = _start(info, named), time.perf_counter()
            token, inside = _CURRENT.set(span), _inside.set(True)
            try:
                response = await func(*args, **kwargs)
            except BaseException as exc:
                _inside.reset(inside)
                _CURRENT.reset(token)
                _fail(span, exc)
                raise
            _inside.reset(inside)
            _CURRENT.reset(token)
            if _is_stream(named, response):
                return TracedStream(info, span, response, t0, named)
            _finish(info, span, response, _dump(response), t0)
            return response

        wrapper: Any = awrapper
    else:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _skip():
                return func(*args, **kwargs)
            named = _named(sig, args, kwargs)
            span, t0 = _start(info, named), time.perf_counter()
            token, inside = _CURRENT.set(span), _inside.set(True)
            try:
                response = func(*args, **kwargs)
            except BaseException as exc:
                _inside.reset(inside)
                _CURRENT.reset(token)
                _fail(span, exc)
                raise
            _inside.reset(inside)
            _CURRENT.reset(token)
            if _is_stream(named, response):
                return TracedStream(info, span, response, t0, named)
            _finish(info, span, response, _dump(response), t0)
            return response

    wrapper = functools.wraps(func)(wrapper)
    wrapper._kernelflow_autolog = True
    wrapper._kernelflow_original = func
    return wrapper


class TracedStream:
    """A streamed response that ends its span when the stream ends (sync or async).

    Everything else (``.response``, ``close()``, context management) goes to the
    wrapped stream.
    """

    def __init__(self, info: CallInfo, span: LiveSpan, stream: Any, t0: float,
                 request: dict | None = None) -> None:
        self._info, self._span, self._stream, self._t0 = info, span, stream, t0
        self._request = request or {}
        self._text: list[str] = []
        self._usage_chunk: Any = None
        self._chunks = 0
        self._iter: Any = None
        self._ended = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _see(self, chunk: Any) -> None:
        self._chunks += 1
        try:
            for choice in _get(chunk, "choices") or ():
                delta = _get(choice, "delta")
                content = _get(delta, "content") if delta is not None else None
                if content:
                    self._text.append(content)
            if usage_of(chunk):
                self._usage_chunk = chunk
        except Exception:
            pass

    def _end(self, exc: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if exc is not None:
            self._span.outputs = None
            self._span.set_outputs({"content": "".join(self._text), "chunks": self._chunks})
            _fail(self._span, exc)
            return
        self._span.attributes["stream_chunks"] = self._chunks
        text = "".join(self._text)
        usage_from = self._usage_chunk
        if usage_from is None and self._info.estimate is not None:
            try:  # the provider sent no usage (no stream_options.include_usage): count it
                usage = self._info.estimate(self._request, text)
            except Exception:
                usage = None
            if usage:
                usage_from = {"usage": {"prompt_tokens": usage["input_tokens"],
                                        "completion_tokens": usage["output_tokens"]}}
        _finish(self._info, self._span, usage_from, {"role": "assistant", "content": text},
                self._t0)

    # -- sync ---------------------------------------------------------------------
    def __iter__(self) -> TracedStream:
        self._iter = iter(self._stream)
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            self._iter = iter(self._stream)
        try:
            chunk = next(self._iter)
        except StopIteration:
            self._end()
            raise
        except BaseException as exc:
            self._end(exc)
            raise
        self._see(chunk)
        return chunk

    def close(self) -> None:
        """Close the underlying stream and end the span."""
        self._end()
        close = getattr(self._stream, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- async --------------------------------------------------------------------
    def __aiter__(self) -> TracedStream:
        self._iter = self._stream.__aiter__()
        return self

    async def __anext__(self) -> Any:
        if self._iter is None:
            self._iter = self._stream.__aiter__()
        try:
            chunk = await self._iter.__anext__()
        except StopAsyncIteration:
            self._end()
            raise
        except BaseException as exc:
            self._end(exc)
            raise
        self._see(chunk)
        return chunk

    async def aclose(self) -> None:
        """Close the underlying async stream and end the span."""
        self._end()
        for name in ("aclose", "close"):
            close = getattr(self._stream, name, None)
            if callable(close):
                result = close()
                if inspect.isawaitable(result):
                    await result
                return

    async def __aenter__(self) -> TracedStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:  # a stream dropped half-read still ends its span
        try:
            if not self._ended:
                self._end()
        except Exception:
            pass


def patch_attr(owner: Any, name: str, info: CallInfo, saved: list,
               is_async: bool | None = None) -> None:
    """Replace ``owner.<name>`` by its traced version, once; ``saved`` records how to undo."""
    current = getattr(owner, name, None)
    if current is None or getattr(current, "_kernelflow_autolog", False):
        return
    saved.append((owner, name, current))
    setattr(owner, name, traced_call(info, current, is_async))


def unpatch_all(saved: list) -> None:
    """Undo :func:`patch_attr`."""
    while saved:
        owner, name, original = saved.pop()
        setattr(owner, name, original)
