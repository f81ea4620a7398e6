"""``@kernelflow.trace``: a span around every call of a function.

Works on plain functions, coroutines, generators and async generators. A
generator's span stays open while it is iterated and ends when it is
exhausted or closed; its outputs are the items it yielded. Inputs are the
call's arguments by parameter name (``self`` and ``cls`` left out).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .serialize import to_json
from .spans import _CURRENT, SpanType, new_span

_SIMPLE = inspect.Parameter.POSITIONAL_OR_KEYWORD
_set, _reset = _CURRENT.set, _CURRENT.reset


def _input_capturer(func: Callable) -> Callable[[tuple, dict], str]:
    """Return a fast ``(args, kwargs) -> inputs JSON`` for ``func``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return lambda args, kwargs: to_json({"args": list(args), **kwargs})
    params = list(sig.parameters.values())
    names = [p.name for p in params]
    skip_first = bool(names) and names[0] in ("self", "cls")
    simple = all(p.kind is _SIMPLE and p.default is p.empty for p in params)

    if not params:
        return lambda args, kwargs: "{}"

    def capture(args: tuple, kwargs: dict) -> str:
        if simple and not kwargs and len(args) == len(names):
            values = dict(zip(names, args, strict=True))
        else:
            try:
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                values = dict(bound.arguments)
            except TypeError:
                values = {"args": list(args), **kwargs}
        if skip_first:
            values.pop(names[0], None)
        return to_json(values) if values else "{}"

    return capture


def trace(func: Callable | None = None, name: str | None = None,
          span_type: str = SpanType.UNKNOWN, attributes: dict[str, Any] | None = None,
          output_reducer: Callable[[list], Any] | None = None) -> Any:
    """Record a span for each call of the decorated function.

    Use as ``@kf.trace`` or ``@kf.trace(name="retrieve", span_type="RETRIEVER")``.
    An exception marks the span ERROR and is re-raised unchanged.

    Args:
        func: the function (when used without parentheses).
        name: the span's name; the function's ``__name__`` by default.
        span_type: one of :class:`~kernelflow.tracing.SpanType`, or any string.
        attributes: attributes set on every span.
        output_reducer: for generators, turns the list of yielded items into the outputs.
    """
    if func is None:
        return functools.partial(trace, name=name, span_type=span_type, attributes=attributes,
                                 output_reducer=output_reducer)
    span_name: str = name or getattr(func, "__name__", None) or "span"
    capture = _input_capturer(func)

    if inspect.isasyncgenfunction(func):
        wrapper: Any = _async_gen_wrapper(func, span_name, span_type, attributes, capture,
                                          output_reducer)
    elif inspect.isgeneratorfunction(func):
        wrapper = _gen_wrapper(func, span_name, span_type, attributes, capture, output_reducer)
    elif inspect.iscoroutinefunction(func):
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with new_span(span_name, span_type, attributes) as span:
                span.inputs = capture(args, kwargs)
                result = await func(*args, **kwargs)
                span.outputs = to_json(result)
                return result
    else:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            span = new_span(span_name, span_type, attributes)
            span.inputs = capture(args, kwargs)
            token = _set(span)
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                _reset(token)
                span.record_exception(exc)
                span.end()
                raise
            _reset(token)
            span.outputs = "null" if result is None else to_json(result)
            span.end()
            return result
    return functools.wraps(func)(wrapper)


def _outputs(items: list, reducer: Callable | None) -> str:
    if reducer is not None:
        try:
            return to_json(reducer(items))
        except Exception as exc:  # a broken reducer must not break the user's generator
            return to_json({"items": items, "output_reducer_error": repr(exc)})
    return to_json(items)


def _gen_wrapper(func, span_name, span_type, attributes, capture, reducer):
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = new_span(span_name, span_type, attributes)
        span.inputs = capture(args, kwargs)
        items: list = []
        try:
            token = _CURRENT.set(span)
            try:
                gen = func(*args, **kwargs)
            finally:
                _CURRENT.reset(token)
            value = None
            while True:
                token = _CURRENT.set(span)
                try:
                    item = gen.send(value)
                except StopIteration as stop:
                    if stop.value is not None:
                        span.attributes["return_value"] = stop.value
                    break
                finally:
                    _CURRENT.reset(token)
                items.append(item)
                try:
                    value = yield item
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as exc:  # thrown in by the caller: pass it on
                    token = _CURRENT.set(span)
                    try:
                        item = gen.throw(exc)
                    except StopIteration:
                        break
                    finally:
                        _CURRENT.reset(token)
                    items.append(item)
                    value = yield item
        except GeneratorExit:
            pass
        except BaseException as exc:
            span.record_exception(exc)
            span.outputs = _outputs(items, reducer)
            span.end()
            raise
        span.outputs = _outputs(items, reducer)
        span.end()

    return wrapper


def _async_gen_wrapper(func, span_name, span_type, attributes, capture, reducer):
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = new_span(span_name, span_type, attributes)
        span.inputs = capture(args, kwargs)
        items: list = []
        try:
            token = _CURRENT.set(span)
            try:
                agen = func(*args, **kwargs)
            finally:
                _CURRENT.reset(token)
            value = None
            while True:
                token = _CURRENT.set(span)
                try:
                    item = await agen.asend(value)
                except StopAsyncIteration:
                    break
                finally:
                    _CURRENT.reset(token)
                items.append(item)
                finished = False
                while True:
                    try:
                        value = yield item
                        break
                    except GeneratorExit:
                        await agen.aclose()
                        raise
                    except BaseException as exc:  # thrown in by the caller: pass it on
                        token = _CURRENT.set(span)
                        try:
                            item = await agen.athrow(exc)
                        except StopAsyncIteration:  # it handled the error and returned
                            finished = True
                            break
                        finally:
                            _CURRENT.reset(token)
                        items.append(item)
                if finished:
                    break
        except GeneratorExit:
            pass
        except BaseException as exc:
            span.record_exception(exc)
            span.outputs = _outputs(items, reducer)
            span.end()
            raise
        span.outputs = _outputs(items, reducer)
        span.end()

    return wrapper
