"""The artifacts browser of a run: a folder listing and a preview of the chosen file."""

from __future__ import annotations

import base64
import json
import os

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import esc

MAX_TEXT_BYTES = 300_000
MAX_TABLE_ROWS = 1000
TEXT_EXT = {".txt", ".log", ".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".sh",
            ".r", ".sql", ".xml", ".rst", ""}
TABLE_EXT = {".csv": ",", ".tsv": "\t"}
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml",
               ".bmp": "image/bmp"}
TEXT_NAMES = {"MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml", "LICENSE"}


def size_text(n: int | None) -> str:
    """Human file size."""
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def preview(path: str, local: str) -> pn.viewable.Viewable:
    """Return a safe preview of one artifact file (user content is never run as script)."""
    ext = os.path.splitext(path)[1].lower()
    name = os.path.basename(path)
    if ext in IMAGE_TYPES:
        return _image(local, IMAGE_TYPES[ext])
    if ext in TABLE_EXT:
        return table(pd.read_csv(local, sep=TABLE_EXT[ext], nrows=MAX_TABLE_ROWS))
    if ext == ".parquet":
        return table(pd.read_parquet(local).head(MAX_TABLE_ROWS))
    if ext == ".json":
        return _json(local)
    if ext in (".html", ".htm"):
        return sandboxed(_read_text(local))
    if ext == ".ipynb":
        return _notebook(local)
    if ext in TEXT_EXT or name in TEXT_NAMES or _looks_textual(local):
        return text_block(_read_text(local))
    return shell.html(f'<span class="kf-muted">No preview for {esc(name)} '
                      f'({size_text(os.path.getsize(local))}).</span>')


def text_block(text: str) -> pn.pane.HTML:
    """Show text verbatim in a scrollable block."""
    return shell.html(f'<pre class="kf-pre kf-artifact-text">{esc(text)}</pre>')


def sandboxed(document: str, height: int = 520) -> pn.pane.HTML:
    """Show an HTML document in an iframe that may not run scripts or reach the page."""
    return shell.html(
        f'<iframe class="kf-artifact-html" sandbox="" referrerpolicy="no-referrer" '
        f'srcdoc="{esc(document)}" style="width:100%;height:{height}px;border:1px solid #e3e6ea;'
        'border-radius:6px;background:#fff"></iframe>'
    )


def table(frame: pd.DataFrame) -> pn.widgets.Tabulator:
    """Show a DataFrame as a read-only table of plain text cells."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    return pn.widgets.Tabulator(
        frame, disabled=True, show_index=False, pagination="local", page_size=50,
        formatters={c: {"type": "plaintext"} for c in frame.columns},
        titles={c: esc(c) for c in frame.columns}, sizing_mode="stretch_width",
        layout="fit_data_table", css_classes=["kf-artifact-table"],
    )


def _read_text(local: str) -> str:
    with open(local, "rb") as f:
        data = f.read(MAX_TEXT_BYTES + 1)
    text = data[:MAX_TEXT_BYTES].decode("utf-8", "replace")
    return text + ("\n… (truncated)" if len(data) > MAX_TEXT_BYTES else "")


def _looks_textual(local: str) -> bool:
    with open(local, "rb") as f:
        head = f.read(2048)
    return b"\x00" not in head and (not head or head.decode("utf-8", "ignore").isprintable()
                                    or b"\n" in head)


def _image(local: str, mime: str) -> pn.pane.HTML:
    # An <img> never runs script, even from an SVG, so user images are safe here.
    with open(local, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return shell.html(f'<img class="kf-artifact-img" src="data:{mime};base64,{data}" '
                      'style="max-width:100%;max-height:600px" alt="artifact image">')


def _json(local: str) -> pn.viewable.Viewable:
    try:
        with open(local, encoding="utf-8") as f:
            doc = json.load(f)
    except (ValueError, UnicodeDecodeError) as exc:
        return pn.Column(shell.error_box(f"Not valid JSON: {exc}"), text_block(_read_text(local)))
    if isinstance(doc, dict) and set(doc) == {"columns", "data"}:  # log_table's format
        return table(pd.DataFrame(doc["data"], columns=doc["columns"]))
    return text_block(json.dumps(doc, indent=2, ensure_ascii=False)[:MAX_TEXT_BYTES])


def _notebook(local: str) -> pn.viewable.Viewable:
    try:
        import nbformat
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(template_name="classic").from_notebook_node(
            nbformat.read(local, as_version=4))
    except Exception as exc:  # nbconvert missing or a broken notebook: show the JSON
        return pn.Column(shell.error_box(f"Cannot render this notebook: {exc}"),
                         text_block(_read_text(local)))
    return sandboxed(body, height=700)


class ArtifactBrowser:
    """A folder listing (click folders to enter, files to preview) for one run."""

    def __init__(self, client, run_id: str) -> None:
        self.client, self.run_id = client, run_id
        self.path = ""
        self.listing = pn.widgets.Tabulator(
            pd.DataFrame(columns=["name", "size"]), show_index=False, disabled=True,
            selectable=1, sortable=False, width=320, height=420, layout="fit_columns",
            formatters={"name": {"type": "plaintext"}, "size": {"type": "plaintext"}},
            css_classes=["kf-artifact-list"], stylesheets=[shell.TABLE_CSS],
        )
        self.where = shell.html("")
        self.preview = pn.Column(sizing_mode="stretch_width")
        self.entries: list = []
        self.listing.on_click(self._clicked)
        self.open_folder("")

    def open_folder(self, path: str) -> None:
        """List one folder of the run's artifacts."""
        try:
            self.entries = list(self.client.list_artifacts(self.run_id, path or None))
        except KernelflowError as exc:
            self.preview[:] = [shell.error_box(exc.message)]
            return
        self.path = path
        rows = [("../", "")] if path else []
        rows += [(os.path.basename(e.path) + ("/" if e.is_dir else ""), size_text(e.file_size))
                 for e in self.entries]
        self.listing.value = pd.DataFrame(rows, columns=["name", "size"])
        self.where.object = f'<span class="kf-muted">artifacts/{esc(path)}</span>'
        if not self.entries and not path:
            self.preview[:] = [shell.html('<span class="kf-muted">This run has no artifacts.</span>')]

    def _clicked(self, event) -> None:
        row = event.row - (1 if self.path else 0)
        if row < 0:
            self.open_folder(os.path.dirname(self.path.rstrip("/")))
            return
        entry = self.entries[row]
        if entry.is_dir:
            self.open_folder(entry.path)
        else:
            self.show(entry.path)

    def show(self, path: str) -> None:
        """Preview one artifact file."""
        try:
            local = self.client.download_artifacts(self.run_id, path)
            body = preview(path, local)
        except KernelflowError as exc:
            body = shell.error_box(exc.message)
        except Exception as exc:  # a malformed CSV/parquet/image must not break the page
            body = shell.error_box(f"Cannot preview {path}: {exc}")
        self.preview[:] = [shell.html(f"<b>{esc(path)}</b>"), body]

    def view(self) -> pn.viewable.Viewable:
        """The browser's layout."""
        return pn.Row(pn.Column(self.where, self.listing), self.preview,
                      sizing_mode="stretch_width")
