"""Text helpers shared by the pages: escaping, relative times, durations, run colours."""

from __future__ import annotations

import html
import time

from kernelflow import display
from kernelflow.display import PALETTE  # one palette for the notebook and the dashboard

STATUS_ICONS = {
    "FINISHED": ("✔", "ok"), "RUNNING": ("●", "running"), "FAILED": ("✖", "failed"),
    "KILLED": ("■", "failed"), "SCHEDULED": ("◷", "scheduled"),
}


def esc(value: object) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape("" if value is None else str(value), quote=True)


def run_color(run_id: str) -> str:
    """Return the colour of a run, the same as in the notebook's charts (kernelflow.display)."""
    return display.run_color(run_id)


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
    """Describe a timestamp in ms like ``"3 minutes ago"`` (as the notebook does)."""
    return display.relative_time(ms, now_ms)


def duration(start_ms: int | None, end_ms: int | None, now_ms: float | None = None) -> str:
    """Describe a run's duration, running runs up to now (as the notebook does)."""
    return display.duration(start_ms, end_ms, now_ms)


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
