"""Text helpers shared by the pages: escaping, relative times, durations, run colours."""

from __future__ import annotations

import hashlib
import html
import time

# Tableau-like, readable on white; a run keeps its colour on every page and chart.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363",
)

STATUS_ICONS = {
    "FINISHED": ("✔", "ok"), "RUNNING": ("●", "running"), "FAILED": ("✖", "failed"),
    "KILLED": ("■", "failed"), "SCHEDULED": ("◷", "scheduled"),
}


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape("" if value is None else str(value), quote=True)


def run_color(run_id: str) -> str:
    """Return the colour of a run, stable across pages, charts and sessions."""
    digest = hashlib.blake2b(run_id.encode(), digest_size=4).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


DASHES = ("solid", "dashed", "dotted", "dashdot", "dotdash")


def distinct_styles(run_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each run's (colour, line dash) so that runs drawn together never look alike.

    A run keeps :func:`run_color` unless another run took it, then moves to the next free
    colour; once all colours are used, lines vary in dash too (20 colours x 5 dashes).
    """
    taken: set[tuple[str, str]] = set()
    out = {}
    combos = [(dash, k) for dash in DASHES for k in range(len(PALETTE))]
    for rid in run_ids:
        start = PALETTE.index(run_color(rid))
        style = (PALETTE[start], DASHES[0])
        for dash, k in combos:
            candidate = (PALETTE[(start + k) % len(PALETTE)], dash)
            if candidate not in taken:
                style = candidate
                break
        taken.add(style)
        out[rid] = style
    return out


def distinct_colors(run_ids: list[str]) -> dict[str, str]:
    """Each run's colour from :func:`distinct_styles` (unique for up to 20 runs)."""
    return {rid: color for rid, (color, _) in distinct_styles(run_ids).items()}


def relative_time(ms: int | None, now_ms: float | None = None) -> str:
    """Describe a timestamp in ms like ``"3 minutes ago"``."""
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
    """Describe a run's duration (running runs count up to now)."""
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


def absolute_time(ms: int | None) -> str:
    """Format a timestamp in ms as local ``YYYY-MM-DD HH:MM:SS``."""
    if not ms:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def status_html(status: str) -> str:
    """Return an escaped status badge."""
    icon, cls = STATUS_ICONS.get(status, ("?", "scheduled"))
    return f'<span class="kf-status kf-{cls}" title="{esc(status)}">{icon} {esc(status.title())}</span>'


def run_link(run_id: str, name: str, color: str | None = None) -> str:
    """Return an escaped link to a run with its colour dot."""
    return (
        f'<span class="kf-dot" style="background:{esc(color or run_color(run_id))}"></span>'
        f'<a href="run?id={esc(run_id)}">{esc(name or run_id[:8])}</a>'
    )


def format_value(value: object) -> str:
    """Format a metric or param value compactly for tables."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
