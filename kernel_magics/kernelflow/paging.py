"""Page tokens: the one paging scheme of every search (runs, experiments, models, traces...).

A page token is an opaque, URL-safe string holding the offset of the next page,
the shape MLflow's clients pass back as ``page_token``. Stores fetch one row
more than asked to know whether a next page exists (:func:`split_page`).
"""

from __future__ import annotations

import base64
import json

from .errors import InvalidParameterError

__all__ = ["encode_page_token", "decode_page_token", "split_page"]


def encode_page_token(offset: int) -> str:
    """Encode a result offset as an opaque page token."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset in a page token made by :func:`encode_page_token` (0 for no token).

    Raises:
        InvalidParameterError: the token was not made by kernelflow.
    """
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except Exception:
        raise InvalidParameterError(
            f"Invalid page_token {token!r}: pass the next_page_token of a previous search."
        ) from None


def split_page(rows: list, offset: int, max_results: int) -> tuple[list, str | None]:
    """Cut ``max_results + 1`` fetched rows into the page and the next page's token."""
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token
