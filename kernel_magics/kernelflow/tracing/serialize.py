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
TRUNCATION_MARKER = "...[truncated by kernelflow: {n} characters in all]"
PREVIEW_CHARS = 1000  # MLflow's request/response preview length (OSS)

_max_field = int(os.environ.get("KERNELFLOW_TRACE_MAX_FIELD_BYTES", DEFAULT_MAX_FIELD_BYTES))


def set_max_field_size(n_bytes: int) -> None:
    """Set the size above which a stored input, output or attribute is truncated."""
    global _max_field
    _max_field = int(n_bytes)


def max_field_size() -> int:
    """The current size limit of one stored field, in characters."""
    return _max_field


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)  # pydantic v2 (litellm, openai responses)
    if callable(dump):
        try:
            return dump()
        except Exception:
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def to_json(value: Any) -> str:
    """Encode a value as JSON text (``repr`` for the unencodable), truncated to the limit."""
    if value is None:
        return "null"
    try:
        text = json.dumps(value, default=_default, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(repr(value), ensure_ascii=False)
    return truncate(text)


def truncate(text: str, limit: int | None = None) -> str:
    """Cut ``text`` to ``limit`` characters, ending with a marker that says so."""
    limit = _max_field if limit is None else limit
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATION_MARKER.format(n=len(text))


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
