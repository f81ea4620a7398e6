"""The deployments page (``/deployments``): served models, as the store records them.

``kernelflow serve`` and ``%kf serve`` record each deployment (model URI, the version
served now, URL, status, replicas, times, last error). This page only reads those rows
through the public Client; it never talks to Ray or imports the serving package.
"""

from __future__ import annotations

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import esc, relative_time

STATUS_CLASS = {"RUNNING": "kf-ok", "STARTING": "kf-running", "UPDATING": "kf-running",
                "FAILED": "kf-failed", "STOPPED": "kf-scheduled"}
COLUMNS = ["Name", "Status", "Model", "Version", "Alias", "URL", "Replicas", "Started",
           "Updated", "Last error"]


def _version_link(d) -> str:
    if not d.model_name or not d.model_version:
        return esc(d.model_version or "-")
    href = shell.url("model", name=d.model_name, version=d.model_version)
    return f'<a href="{esc(href)}">v{esc(d.model_version)}</a>'


def deployments_frame(deployments: list) -> pd.DataFrame:
    """One row per deployment; every user string is escaped."""
    rows = []
    for d in deployments:
        status = f'<span class="kf-status {STATUS_CLASS.get(d.status, "")}">{esc(d.status)}</span>'
        url = (f'<a href="{esc(d.url)}/ping" target="_blank" rel="noopener">{esc(d.url)}</a>'
               if d.url and d.status == "RUNNING" else esc(d.url or ""))
        rows.append((esc(d.name), status, esc(d.model_uri), _version_link(d), esc(d.alias or ""),
                     url, esc(d.replicas or ""), relative_time(d.created_time),
                     relative_time(d.updated_time), esc(d.last_error or "")))
    return pd.DataFrame(rows, columns=COLUMNS)


def deployments_page() -> pn.viewable.Viewable:
    """Build the deployments page."""
    client = shell.client()
    try:
        deployments = list(client.list_deployments())
    except KernelflowError as exc:
        return shell.page("deployments", shell.header("Deployments"), shell.error_box(exc.message))
    if not deployments:
        note = shell.html('<span class="kf-muted">No models are served yet. Serve one with '
                          "<code>kernelflow serve models:/NAME@ALIAS</code> or "
                          "<code>%kf serve NAME@ALIAS</code> in a notebook.</span>")
        return shell.page("deployments", shell.header("Deployments"), note)
    table = pn.widgets.Tabulator(
        deployments_frame(deployments), show_index=False, disabled=True, sortable=False,
        selectable=False, layout="fit_data_stretch", sizing_mode="stretch_width",
        css_classes=["kf-deployments"], formatters={c: {"type": "html"} for c in COLUMNS},
        stylesheets=[shell.CSS, shell.TABLE_CSS],
    )
    return shell.page("deployments", shell.header("Deployments"), table)


def served_table(client, model_name: str) -> list:
    """A model page's "Served" section: where its versions are served now (empty when nowhere)."""
    try:
        deployments = [d for d in client.list_deployments()
                       if d.model_name == model_name and d.status in ("STARTING", "RUNNING",
                                                                       "UPDATING")]
    except KernelflowError:  # a store without deployments (an older server)
        return []
    if not deployments:
        return []
    rows = "".join(
        f"<tr><td>v{esc(d.model_version or '?')}</td><td>{esc(d.name)}</td>"
        f"<td>{esc('@' + d.alias if d.alias else '')}</td>"
        f'<td><a href="{esc(d.url)}/ping" target="_blank" rel="noopener">{esc(d.url)}</a></td>'
        f"<td>{esc(d.status)}</td></tr>" for d in deployments)
    table = ('<table class="kf-kv kf-served"><tr><th>Version</th><th>Deployment</th>'
             f"<th>Follows</th><th>URL</th><th>Status</th></tr>{rows}</table>")
    return [shell.html("<h3>Served</h3>"), shell.html(table)]
