"""Small formatting helpers shared by the widgets and HTML reprs."""

from __future__ import annotations

import html
import time

from .svg import format_number, run_color

STATUS_COLORS = {"FINISHED": "#2e7d32", "RUNNING": "#1565c0", "FAILED": "#c62828",
                 "KILLED": "#6d4c41", "SCHEDULED": "#757575"}


def ago(ms: int | None, now: float | None = None) -> str:
    """``"3 min ago"`` for a millisecond timestamp."""
    if not ms:
        return ""
    secs = max(0.0, (now if now is not None else time.time()) - ms / 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{int(secs // size)} {unit} ago"
    return f"{int(secs)} s ago"


def duration(start: int | None, end: int | None, now: float | None = None) -> str:
    """``"1.2 s"``, ``"3.5 min"``: a run's length (until now while it runs)."""
    if not start:
        return ""
    stop = end if end else (now if now is not None else time.time()) * 1000
    secs = max(0.0, (stop - start) / 1000)
    if secs < 60:
        return f"{secs:.1f} s"
    if secs < 3600:
        return f"{secs / 60:.1f} min"
    return f"{secs / 3600:.1f} h"


class Safe(str):
    """Markup built here from escaped parts: :func:`value` passes it through unchanged."""


def value(v: object) -> str:
    """A metric or param value for a table cell, escaped (unless it is :class:`Safe` markup)."""
    if isinstance(v, Safe):
        return v
    if isinstance(v, float):
        return format_number(v)
    return html.escape(str(v))


def status_badge(status: str) -> str:
    """A coloured status label."""
    color = STATUS_COLORS.get(status, "#555")
    return f'<span class="kf-status" style="color:{color};font-weight:600">{html.escape(status)}</span>'


def run_name_cell(name: str, run_id: str) -> str:
    """Run name with its colour swatch (the same colour as in every chart)."""
    color = run_color(run_id)
    return (f'<span style="display:inline-block;width:9px;height:9px;border-radius:2px;'
            f'background:{color};margin-right:5px"></span><b>{html.escape(name)}</b>')


TABLE_STYLE = (
    "<style>.kf-table{border-collapse:collapse;font:12px sans-serif}"
    ".kf-table th,.kf-table td{padding:3px 8px;border-bottom:1px solid #e0e0e0;text-align:left;"
    "white-space:nowrap}.kf-table th{background:#f5f5f5}.kf-table code{font-size:11px;color:#666}"
    "</style>"
)


def format_number_or_blank(v: float | None) -> str:
    """A number for a text table, or empty."""
    return "" if v is None else format_number(float(v))
