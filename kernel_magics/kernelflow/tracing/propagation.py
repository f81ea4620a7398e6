"""W3C Trace Context: carry a trace across processes in the ``traceparent`` header.

The caller sends :func:`context_headers` with its request; the server wraps its
handling in :func:`continue_trace`, and the spans it opens join the caller's
trace as children of the caller's span::

    # client
    httpx.post(url, json=body, headers=kf.tracing.context_headers())

    # server
    with kf.tracing.continue_trace(request.headers):
        with kf.start_span("handle", span_type="CHAIN") as span:
            ...
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .spans import _CURRENT, RemoteParent

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def context_headers() -> dict[str, str]:
    """Headers that let a server continue the active trace (``{}`` when no span is active)."""
    span = _CURRENT.get()
    if span is None:
        return {}
    if type(span) is RemoteParent:
        trace_id, span_id, flags = span.otel_trace_id, span.span_id_int, "01" if span.sampled else "00"
    else:
        trace_id, span_id, flags = span._trace.otel_trace_id, span._id, "01"
    return {"traceparent": f"00-{trace_id:032x}-{span_id:016x}-{flags}"}


def parse_traceparent(value: str | None) -> RemoteParent | None:
    """Parse a ``traceparent`` header value; None when it is missing or malformed."""
    if not value:
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if m is None or m.group(1) == "ff":
        return None
    trace_id, span_id = int(m.group(2), 16), int(m.group(3), 16)
    if trace_id == 0 or span_id == 0:
        return None
    return RemoteParent(trace_id, span_id, bool(int(m.group(4), 16) & 1))


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    get = getattr(headers, "get", None)
    value = get(name) if get else None
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                value = val
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


@contextlib.contextmanager
def continue_trace(headers: Mapping[str, Any] | None) -> Iterator[RemoteParent | None]:
    """Make spans opened inside the block continue the trace named by ``traceparent``.

    Without a valid ``traceparent`` header the block runs unchanged (spans start
    a new trace). Yields the remote parent, or None.

    Args:
        headers: the incoming request's headers (any mapping; names are case-insensitive).
    """
    parent = parse_traceparent(_header(headers, "traceparent"))
    if parent is None:
        yield None
        return
    token = _CURRENT.set(parent)
    try:
        yield parent
    finally:
        _CURRENT.reset(token)
