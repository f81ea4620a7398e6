"""Rate limits in requests and tokens per minute, per route and per key.

Windows are whole minutes. In one process the counts live in memory; with several
workers (``--workers N``) they are counted in the store's ``gateway_usage`` table,
so every worker sees the same totals.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .errors import GatewayError

__all__ = ["Limiter"]


class Limiter:
    """Counts requests and tokens per scope and minute and refuses what exceeds a limit.

    Args:
        client: a ``kernelflow.Client`` to count in the store (None: count in memory).
        clock: returns seconds since the epoch (a seam for tests).
    """

    def __init__(self, client: Any = None, clock: Any = time.time) -> None:
        self.client = client
        self.clock = clock
        self._counts: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()

    def _add(self, scope: str, minute: int, requests: int, tokens: int) -> tuple[int, int]:
        if self.client is not None:
            return self.client.add_gateway_usage(scope, minute, requests, tokens)
        with self._lock:
            if len(self._counts) > 10_000:  # forget finished minutes
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= minute - 1}
            counts = self._counts.setdefault((scope, minute), [0, 0])
            counts[0] += requests
            counts[1] += tokens
            return counts[0], counts[1]

    def hit(self, scope: str, rpm: int | None, tpm: int | None, what: str) -> None:
        """Count one request; raise a 429 GatewayError if ``scope`` is over a limit."""
        if not rpm and not tpm:
            return
        now = self.clock()
        minute = int(now // 60)
        retry = 60 - (now % 60)
        if tpm:
            _, tokens = self._add(scope, minute, 0, 0)
            if tokens >= tpm:
                raise GatewayError(f"Rate limit of {what} reached: {tpm} tokens per minute. "
                                   f"Retry in {retry:.0f} s.", 429, "rate_limit_error",
                                   "rate_limit_exceeded", retry_after=retry)
        requests, _ = self._add(scope, minute, 1, 0)
        if rpm and requests > rpm:
            raise GatewayError(f"Rate limit of {what} reached: {rpm} requests per minute. "
                               f"Retry in {retry:.0f} s.", 429, "rate_limit_error",
                               "rate_limit_exceeded", retry_after=retry)

    def add_tokens(self, scope: str, tokens: int) -> None:
        """Count the tokens a finished call used."""
        self._add(scope, int(self.clock() // 60), 0, tokens)
