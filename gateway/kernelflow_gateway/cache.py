"""An optional exact-match response cache with a TTL (``kernelflow: {cache: {ttl: 60}}``).

Only non-streaming calls are cached, keyed by the call's kind and its whole JSON body,
so any difference in messages or parameters misses.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any

__all__ = ["ResponseCache"]


class ResponseCache:
    """Responses by request, for ``ttl`` seconds; at most ``max_entries`` kept.

    Args:
        ttl: seconds an answer stays valid (None disables the cache).
        max_entries: the least recently used entries go first beyond this.
    """

    def __init__(self, ttl: float | None, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(kind: str, body: dict) -> str | None:
        try:
            return kind + json.dumps(body, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None

    def get(self, kind: str, body: dict) -> dict | None:
        """The cached answer to this exact request, or None."""
        if not self.ttl or body.get("stream"):
            return None
        key = self._key(kind, body)
        with self._lock:
            found = self._items.get(key) if key else None
            if found is None:
                return None
            expires, value = found
            if expires < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return json.loads(json.dumps(value))

    def put(self, kind: str, body: dict, value: Any) -> None:
        """Remember an answer."""
        if not self.ttl or body.get("stream"):
            return
        key = self._key(kind, body)
        if key is None:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
