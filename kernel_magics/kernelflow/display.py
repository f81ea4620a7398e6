"""How runs look everywhere: one colour per run, relative times and durations.

The notebook widgets and the dashboard both import these, so a run has the same
colour in every chart and table, and times read the same in both. Standard
library only: the kernel imports this on ``%load_ext`` and the dashboard in its
own process.
"""

from __future__ import annotations

import hashlib
import time

__all__ = ["PALETTE", "duration", "relative_time", "run_color"]

# Tableau-like, readable on white; 20 colours so that runs drawn together rarely share one.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363",
)


def run_color(run_id: str) -> str:
    """Return the colour of a run, the same in every chart, page, session and process.

    Args:
        run_id: the run's id.

    Returns:
        A ``#rrggbb`` colour from :data:`PALETTE`.
    """
    digest = hashlib.blake2b(run_id.encode(), digest_size=4).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def relative_time(ms: int | None, now_ms: float | None = None) -> str:
    """Describe a timestamp like ``"3 minutes ago"``.

    Args:
        ms: the timestamp in milliseconds since the epoch (None or 0: unknown).
        now_ms: the present in milliseconds (default: the clock).

    Returns:
        ``"just now"``, ``"5 seconds ago"``, ``"1 minute ago"``, ... or ``"-"`` when unknown.
    """
    if not ms:
        return "-"
    now = now_ms if now_ms is not None else time.time() * 1000
    seconds = max(0.0, (now - ms) / 1000)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    n = int(seconds)
    return "just now" if n < 2 else f"{n} seconds ago"


def duration(start_ms: int | None, end_ms: int | None, now_ms: float | None = None) -> str:
    """Describe how long a run took (a running run counts up to now).

    Args:
        start_ms: start in milliseconds since the epoch (None: unknown).
        end_ms: end in milliseconds (None: still running).
        now_ms: the present in milliseconds (default: the clock).

    Returns:
        ``"850ms"``, ``"2.5s"``, ``"1m 5s"``, ``"1h 2m"``, or ``"-"`` when the start is unknown.
    """
    if not start_ms:
        return "-"
    end = end_ms if end_ms else (now_ms if now_ms is not None else time.time() * 1000)
    ms = max(0.0, end - start_ms)
    if ms < 1000:
        return f"{int(ms)}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m {int(s % 60)}s"
    return f"{int(s // 3600)}h {int(s % 3600 // 60)}m"
