"""Small formatting helpers shared by the widgets and HTML reprs."""

from __future__ import annotations

import html

# Re-exported for the widgets: the dashboard shows runs the same way (kernelflow.display).
from ..display import duration, run_color  # noqa: F401
from ..display import relative_time as ago  # noqa: F401
from .svg import format_number

STATUS_COLORS = {"FINISHED": "#2e7d32", "RUNNING": "#1565c0", "FAILED": "#c62828",
                 "KILLED": "#6d4c41", "SCHEDULED": "#757575"}


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
