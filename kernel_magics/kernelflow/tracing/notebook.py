"""Traces under the cell that made them (``%load_ext kernelflow`` turns this on).

An IPython ``pre_run_cell`` hook starts collecting the traces that end in the
cell; ``post_run_cell`` shows them under it as span trees
(:mod:`kernelflow.tracing.display`), from memory: no store round trip, no
server. ``%kf traces --display off`` turns it off for the session.
"""

from __future__ import annotations

from typing import Any

from . import export

MAX_TREES = 10
_hooks: dict[int, tuple] = {}


def _pre_run_cell(info: Any = None) -> None:
    export.cell_traces.clear()
    export.current_cell[:] = [getattr(info, "cell_id", None)]


def _make_post_run_cell(shell: Any):
    def post_run_cell(*_: Any) -> None:
        traces = list(export.cell_traces)
        export.cell_traces.clear()
        export.current_cell.clear()
        # Only a kernel shows HTML; a terminal IPython would print "<HTML object>".
        if not traces or type(shell).__name__ != "ZMQInteractiveShell":
            return
        try:
            from IPython.display import HTML, display

            from .display import trace_html
            from .entities import trace_from_record

            shown = [trace_from_record(t.to_record()) for t in traces[-MAX_TREES:]]
            html = trace_html(shown)
            if len(traces) > MAX_TREES:
                html += (f"<p>{len(traces) - MAX_TREES} earlier traces of this cell are not shown: "
                         "<code>%kf traces</code> lists them.</p>")
            display(HTML(html))
        except Exception as exc:  # a display hook must never break the next cell
            print(f"kernelflow: could not show this cell's traces: {exc}")

    return post_run_cell


def enable_cell_display(shell: Any) -> None:
    """Show the traces each cell makes under it."""
    if shell is None or id(shell) in _hooks:
        return
    post = _make_post_run_cell(shell)
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", post)
    _hooks[id(shell)] = (shell, post)
    export.collect_cell_traces(True)


def disable_cell_display(shell: Any) -> bool:
    """Stop showing traces under cells; return True if it was on."""
    found = _hooks.pop(id(shell), None)
    if found is None:
        return False
    _, post = found
    for name, fn in (("pre_run_cell", _pre_run_cell), ("post_run_cell", post)):
        try:
            shell.events.unregister(name, fn)
        except ValueError:
            pass
    export.collect_cell_traces(bool(_hooks))
    return True


def cell_display_enabled(shell: Any) -> bool:
    """Whether traces are shown under cells in this shell."""
    return id(shell) in _hooks
