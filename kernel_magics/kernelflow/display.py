"""How runs look everywhere: one colour per run, relative times and durations.

The notebook widgets and the dashboard both import these, so a run has the same
colour in every chart and table, and times read the same in both. Standard
library only: the kernel imports this on ``%load_ext`` and the dashboard in its
own process.
"""

from __future__ import annotations

import hashlib
import time

__all__ = ["PALETTE", "distinct_colors", "duration", "relative_time", "run_color"]

# Ten hues picked for distinctness (no navy next to grey, no two purples) and readable on
# JupyterLab's light and dark themes alike: every colour has a contrast of at least 2:1 against
# white and against #111 (a line, not text). A chart never repeats one: see distinct_colors().
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#e377c2", "#bcbd22",
    "#a97c50", "#8c8c8c",
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


def distinct_colors(run_ids: list[str]) -> dict[str, str]:
    """Colour the runs drawn together in one view, each with its own colour while colours last.

    A run keeps its :func:`run_color` unless an earlier run of ``run_ids`` holds it; then it takes
    the next free colour of :data:`PALETTE` after its own. So a run's colour is the same in every
    view where it does not collide, and two lines of one chart never share a colour (up to
    ``len(PALETTE)`` runs; past that colours repeat).

    Args:
        run_ids: the runs of the view, in the order they are listed.

    Returns:
        ``{run_id: "#rrggbb"}``.
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for rid in run_ids:
        if rid in out:
            continue
        start = PALETTE.index(run_color(rid))
        for k in range(len(PALETTE)):
            color = PALETTE[(start + k) % len(PALETTE)]
            if color not in taken:
                break
        else:  # more runs than colours: reuse, keeping the run's own
            color = PALETTE[start]
            taken.clear()
        taken.add(color)
        out[rid] = color
    return out


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
