"""The traces page (``/traces``): gateway calls and ``@trace``d code, once the core stores them."""

from __future__ import annotations

import panel as pn

from . import shell


def traces_page() -> pn.viewable.Viewable:
    """Build the traces page (says plainly when this store has no trace support yet)."""
    client = shell.client()
    if not hasattr(client, "search_traces"):
        note = ('<p class="kf-muted">This kernelflow store does not record traces yet. '
                "They will be listed here (timing, status, tokens, cost) once the gateway logs "
                "them.</p>")
        return shell.page("traces", shell.header("Traces"), shell.html(note))
    traces = client.search_traces(max_results=200)
    return shell.page("traces", shell.header("Traces"),
                      pn.widgets.Tabulator(_frame(traces), disabled=True, show_index=False,
                                           sizing_mode="stretch_width"))


def _frame(traces):
    import pandas as pd

    return traces if isinstance(traces, pd.DataFrame) else pd.DataFrame([vars(t) for t in traces])
