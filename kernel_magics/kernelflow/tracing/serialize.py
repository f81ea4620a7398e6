"""Turning span inputs, outputs and attributes into stored JSON text.

Values that ``json`` cannot encode are stored as their ``repr``; pydantic models
and dataclasses as their fields. A field longer than the size limit
(``KERNELFLOW_TRACE_MAX_FIELD_BYTES``, default 64 KiB) is cut and marked, so one
huge prompt never bloats the file or the page.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

DEFAULT_MAX_FIELD_BYTES = 64 * 1024
TRUNCATION_MARKER = "...[truncated by kernelflow: {n} bytes in all]"
PREVIEW_CHARS = 1000  # MLflow's request/response preview length (OSS)

_max_field = int(os.environ.get("KERNELFLOW_TRACE_MAX_FIELD_BYTES", DEFAULT_MAX_FIELD_BYTES))


def set_max_field_size(n_bytes: int) -> None:
    """Set the size in bytes (UTF-8) above which a stored input, output or attribute value
    is truncated."""
    global _max_field
    _max_field = int(n_bytes)


def max_field_size() -> int:
    """The current size limit of one stored field, in bytes (UTF-8)."""
    return _max_field


def safe_repr(value: Any) -> str:
    """``repr(value)``, or a stand-in naming the type when ``__repr__`` itself fails."""
    try:
        return repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} object: repr() raised {type(exc).__name__}>"


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)  # pydantic v2 (litellm, openai responses)
    if callable(dump):
        try:
            return dump()
        except Exception:
            pass
    try:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
    except Exception:
        pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return safe_repr(value)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, default=_default, ensure_ascii=False)
    except Exception:  # a cycle, a NaN-hostile object, a __repr__ or __iter__ that raises
        return json.dumps(safe_repr(value), ensure_ascii=False)


def to_json(value: Any) -> str:
    """Encode a value as JSON text (``repr`` for the unencodable), truncated to the limit.

    Never raises: tracing must not break the traced code or the writer.
    """
    if value is None:
        return "null"
    return truncate(_dumps(value))


def _fits(text: str, limit: int) -> bool:
    return len(text) <= limit // 4 or len(text.encode("utf-8", "surrogatepass")) <= limit


def _fitted(value: Any) -> Any:
    """The value itself when its JSON fits the limit, else its cut JSON text (a string)."""
    text = _dumps(value)
    return value if _fits(text, _max_field) else truncate(text)


def mapping_to_json(values: dict) -> str:
    """Attributes as a JSON object in which only the oversized values are cut (to strings
    ending with the marker), so the field stays an object a reader can index."""
    text = _dumps(values)
    if _fits(text, _max_field):
        return text
    return _dumps({str(k): _fitted(v) for k, v in values.items()})


def events_to_json(events: list | tuple) -> str:
    """Span events as a JSON list; an oversized attribute value of an event is cut alone."""
    text = _dumps(events)
    if _fits(text, _max_field):
        return text
    return _dumps([{**e, "attributes": {str(k): _fitted(v)
                                        for k, v in (e.get("attributes") or {}).items()}}
                   if isinstance(e, dict) else _fitted(e) for e in events])


def truncate(text: str, limit: int | None = None) -> str:
    """Cut ``text`` to ``limit`` bytes of UTF-8, ending with a marker that says so."""
    limit = _max_field if limit is None else limit
    if _fits(text, limit):
        return text
    data = text.encode("utf-8", "surrogatepass")
    return data[:limit].decode("utf-8", "ignore") + TRUNCATION_MARKER.format(n=len(data))


def from_json(text: str | None) -> Any:
    """Decode stored JSON text; text that is not JSON (a truncated field) comes back as is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def preview(text: str | None) -> str | None:
    """A request or response preview: the JSON text cut to MLflow's 1,000 characters."""
    if text is None:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."
