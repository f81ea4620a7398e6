"""Interactive widgets that leave a static copy in the notebook (the runs table, the registry).

A widget's output (``application/vnd.jupyter.widget-view+json``) names a model that lives
in the kernel. Once the kernel is gone (restarted, or the saved notebook is opened
later), JupyterLab's widget renderer finds no model and writes "Error displaying widget:
model not found" in its place; the ``text/html`` of the same output is never shown,
because an output shows one MIME type and the widget's ranks first where the notebook
is trusted. So a table that must stay interactive while the kernel lives *and* read
well without it is shown as two outputs, one after the other:

1. the static copy: ``text/html`` (the table as it is now) with a display id, updated
   in place (``update_display``) whenever the widget's content changes, so the saved
   notebook holds the final values;
2. the widget itself, whose view carries the CSS class ``kf-live-<uid>``.

The static copy's ``<style>`` decides which of the two shows: while the widget's view
is rendered (its class is in the next output) the copy is hidden; when the next output
holds no live view (model not found, "Loading widget...", no widget extension) that
output is hidden and the copy shows. Where no style applies (GitHub, nbviewer,
untrusted notebooks) the widget output has nothing to show but an empty
``text/plain`` and the copy is what is seen.

A view that ends (the live chart, when its run ends) calls :meth:`StaticFallback.finish`:
the copy becomes the final content and the widget's output is emptied, hidden by the
same rules.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

MIME_WIDGET = "application/vnd.jupyter.widget-view+json"


class StaticFallback:
    """The static copy of one shown widget, and the CSS that swaps it with the live view."""

    def __init__(self) -> None:
        self.uid = uuid.uuid4().hex[:12]
        self._shown: list[tuple[Any, dict | None]] = []  # (display handle, parent header)
        self._views: list[tuple[Any, dict | None]] = []  # the widget's outputs, likewise
        self._last: dict | None = None

    @property
    def live_class(self) -> str:
        """The CSS class the live view carries (``kf-live-<uid>``)."""
        return f"kf-live-{self.uid}"

    @property
    def shown(self) -> bool:
        """True once :meth:`show` displayed the copy (it can be updated)."""
        return bool(self._shown)

    def style(self) -> str:
        """The rules that show either the live view or this copy, never both, never an error."""
        rules = []
        for box in (".jp-OutputArea-child", ".output_area"):  # JupyterLab/Notebook 7, classic
            me = f"{box}:has(.kf-fb-{self.uid})"  # (:has() does not nest)
            rules.append(f"{me}:has(+ {box} .{self.live_class}){{display:none}}"
                         f"{me} + {box}:not(:has(.{self.live_class})){{display:none}}")
        # JupyterLab right-aligns the cells of rendered HTML tables; the widget's are left-aligned
        rules.append(f".kf-fb-{self.uid} .kf-table th,.kf-fb-{self.uid} .kf-table td"
                     f"{{text-align:left}}.kf-fb-{self.uid} .kf-table th.kf-group{{text-align:center}}")
        return f"<style>{''.join(rules)}</style>"

    def bundle(self, markup: str, text: str) -> dict:
        """The copy's MIME bundle: ``markup`` inside a marked ``div``, and ``text``."""
        return {"text/html": f"<div class='kf-fallback kf-fb-{self.uid}'>{self.style()}{markup}</div>",
                "text/plain": text}

    def show(self, widget: Any, markup: str, text: str) -> None:
        """Display the copy, then the widget (marked with :attr:`live_class`), under the cell.

        Shown again (in another cell), every copy shown follows the widget's changes.

        Args:
            widget: an ipywidgets ``DOMWidget`` (its view gets the live class).
            markup: the copy's HTML.
            text: the copy's plain text.
        """
        from IPython.display import display

        widget.add_class("kf-widget-live")
        widget.add_class(self.live_class)
        self._last = self.bundle(markup, text)
        parent = _parent_header()
        copy = display(self._last, raw=True, display_id=True)
        view = dict(widget._repr_mimebundle_() or {})
        view["text/plain"] = ""  # the copy above says it; nothing to repeat where widgets don't render
        shown = display(view, raw=True, display_id=True)
        if copy is not None and shown is not None:  # (None outside IPython: only printed)
            self._shown.append((copy, parent))
            self._views.append((shown, parent))

    def update(self, markup: str, text: str) -> None:
        """Replace the copy's content (a no-op before :meth:`show` or when nothing changed).

        The update goes out under the parent message of the cell that showed the copy, so
        JupyterLab applies it to that cell's output even when a widget event (a comm
        message) triggered it. When another cell's code made the change, it goes out under
        that cell too: nbclient applies display updates only while running their cell.
        """
        bundle = self.bundle(markup, text)
        if not self._shown or bundle == self._last:
            return
        self._last = bundle
        _publish(self._shown, bundle)

    def finish(self, bundle: dict) -> None:
        """Make ``bundle`` the copy for good and empty the widget's outputs (it is closing).

        For a view that ends (the live chart when its run ends): the saved notebook then
        holds ``bundle`` (its ``text/html`` kept in the copy's marked ``div``, so the empty
        widget output after it stays hidden; other MIME types as given) and no widget.

        Args:
            bundle: the final MIME bundle (``text/html`` and ``text/plain`` at least).
        """
        if not self._shown:
            return
        final = dict(bundle)
        final["text/html"] = (f"<div class='kf-fallback kf-fb-{self.uid}'>{self.style()}"
                              f"{bundle['text/html']}</div>")
        self._last = final
        _publish(self._shown, final)
        _publish(self._views, {"text/plain": ""})
        self._shown, self._views = [], []  # for good: later updates are no-ops


def _publish(shown: list[tuple[Any, dict | None]], bundle: dict) -> None:
    """Update every shown output under the parent that showed it (and the running cell's)."""
    now = _parent_header()
    for handle, parent in shown:
        with _as_parent(parent):
            handle.update(bundle, raw=True)
        if (now and parent and now.get("msg_id") != parent.get("msg_id")
                and now.get("msg_type") == "execute_request"):
            handle.update(bundle, raw=True)


def _publisher() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "display_pub", None) if shell is not None else None


def _parent_header() -> dict | None:
    """The header of the message whose outputs are being produced now (in a kernel)."""
    header = getattr(_publisher(), "parent_header", None)
    return dict(header) if header else None


@contextlib.contextmanager
def _as_parent(parent: dict | None) -> Iterator[None]:
    """Publish displays under ``parent`` for the duration (ipykernel's display publisher)."""
    pub = _publisher()
    if not parent or not hasattr(pub, "set_thread_parent"):
        yield
        return
    token = pub.set_thread_parent(parent)
    try:
        yield
    finally:
        pub.reset_thread_parent(token)


def in_kernel() -> bool:
    """True in a Jupyter kernel (where widgets can show), False in a terminal or plain shell."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
