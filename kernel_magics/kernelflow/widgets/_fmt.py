"""Small formatting helpers shared by the widgets and HTML reprs."""

from __future__ import annotations

import html

# Re-exported for the widgets: the dashboard shows runs the same way (kernelflow.display).
from ..display import duration, run_color  # noqa: F401
from ..display import relative_time as ago  # noqa: F401
from .svg import format_number

# Jupyter's theme variables, so text stays readable on the light and the dark theme.
STATUS_COLORS = {"FINISHED": "var(--jp-success-color1, #2e7d32)",
                 "RUNNING": "var(--jp-brand-color1, #1565c0)",
                 "FAILED": "var(--jp-error-color1, #c62828)",
                 "KILLED": "var(--jp-warn-color1, #e65100)",
                 "SCHEDULED": "var(--jp-ui-font-color2, #757575)"}
FG1 = "var(--jp-ui-font-color1, #222)"
FG2 = "var(--jp-ui-font-color2, #555)"
BOX_STYLE = f"font:13px var(--jp-ui-font-family,sans-serif);color:{FG1}"


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
    color = STATUS_COLORS.get(status, FG2)
    return f'<span class="kf-status" style="color:{color};font-weight:600">{html.escape(status)}</span>'


def run_name_cell(name: str, run_id: str) -> str:
    """Run name with its colour swatch (the same colour as in every chart)."""
    color = run_color(run_id)
    return (f'<span style="display:inline-block;width:9px;height:9px;border-radius:2px;'
            f'background:{color};margin-right:5px"></span><b>{html.escape(name)}</b>')


TABLE_STYLE = (
    "<style>.kf-table{border-collapse:collapse;font:12px var(--jp-ui-font-family,sans-serif);"
    "color:var(--jp-ui-font-color1,#222)}"
    ".kf-table th,.kf-table td{padding:3px 8px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0);"
    "text-align:left;white-space:nowrap;color:var(--jp-ui-font-color1,#222)}"
    ".kf-table th{background:var(--jp-layout-color2,#f5f5f5);font-weight:600}"
    ".kf-table th.kf-group{text-align:center;border-bottom:2px solid var(--jp-border-color1,#bdbdbd)}"
    ".kf-table code{font-size:11px;color:var(--jp-ui-font-color2,#666)}"
    ".kf-table a{color:var(--jp-content-link-color,#1976d2)}"
    "</style>"
)


def stage_label(stage: str | None) -> str:
    """A model version's stage for display: ``"—"`` when it has none (MLflow's ``"None"``)."""
    return "—" if not stage or stage == "None" else stage


def format_number_or_blank(v: float | None) -> str:
    """A number for a text table, or empty."""
    return "" if v is None else format_number(float(v))
