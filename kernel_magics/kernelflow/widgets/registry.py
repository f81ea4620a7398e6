"""The registry widget (``%kf models``): models, versions, aliases and stages; move an alias with a button.

Shown in a kernel, the widget comes with a static copy (see ``_fallback``) kept up to date
as aliases move, so after a kernel restart, or in the saved notebook, the registry as last
shown reads there instead of a widget error.
"""

from __future__ import annotations

import html
from typing import Any

from ..client import Client
from ..errors import KernelflowError
from . import _data, _fallback, _fmt

_ERROR = _fmt.STATUS_COLORS["FAILED"]


def versions_html(client: Client, name: str) -> str:
    """The versions of one registered model as an HTML table (newest first)."""
    versions = sorted(client.search_model_versions(f"name = '{_quote(name)}'"),
                      key=lambda v: int(v.version), reverse=True)
    if not versions:
        return f"<p>{html.escape(name)} has no versions yet.</p>"
    head = "".join(f"<th>{h}</th>" for h in
                   ("version", "aliases", "stage", "status", "run", "created", "description"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in (
            f"<b>{html.escape(str(v.version))}</b>",
            " ".join(f"<code>@{html.escape(a)}</code>" for a in sorted(v.aliases)),
            html.escape(_fmt.stage_label(v.current_stage)), _fmt.status_badge(v.status or ""),
            f"<code>{html.escape((v.run_id or '')[:8])}</code>", _fmt.ago(v.creation_timestamp),
            html.escape(v.description or ""),
        )) + "</tr>"
        for v in versions
    )
    return f"{_fmt.TABLE_STYLE}<table class='kf-table kf-versions'><tr>{head}</tr>{rows}</table>"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def models_html(client: Client) -> str:
    """Every registered model with its version count and aliases, as an HTML table."""
    models = client.search_registered_models(max_results=1000)
    if not models:
        return ("<p>No registered models yet. Register one with "
                "<code>%kf register VARIABLE NAME</code> or kernelflow.register_model().</p>")
    rows = "".join(
        f"<tr><td><b>{html.escape(m.name)}</b></td>"
        f"<td>{html.escape(', '.join(f'@{a} → v{v}' for a, v in sorted(m.aliases.items())))}</td>"
        f"<td>{html.escape(', '.join(f'v{v.version}' for v in m.latest_versions))}</td>"
        f"<td>{_fmt.ago(m.last_updated_timestamp)}</td></tr>"
        for m in models
    )
    return (f"{_fmt.TABLE_STYLE}<table class='kf-table kf-models'><tr><th>model</th><th>aliases</th>"
            f"<th>latest versions</th><th>updated</th></tr>{rows}</table>")


class RegistryBrowser:
    """Browse registered models and move aliases.

    Args:
        name: the model to open first (default: the first one).
        client: where to read and write.
    """

    def __init__(self, name: str | None = None, client: Client | None = None) -> None:
        self.client = _data.client(client)
        self.model_names = [m.name for m in self.client.search_registered_models(max_results=1000)]
        if name is not None and name not in self.model_names:
            self.client.get_registered_model(name)  # raises a clear not-found error
        self.name = name or (self.model_names[0] if self.model_names else None)
        self._widget: Any = None
        self._fallback = _fallback.StaticFallback()
        self.widget  # noqa: B018 - build now so the controls exist as attributes

    @property
    def widget(self) -> Any:
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            self._widget = self._build()
            self.refresh()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        self.model_box = w.Dropdown(options=self.model_names, value=self.name, description="Model")
        self.overview = w.HTML()
        self.versions = w.HTML()
        self.alias_box = w.Combobox(placeholder="alias, e.g. champion", description="Alias",
                                    ensure_option=False)
        self.version_box = w.Dropdown(description="→ version", layout=w.Layout(width="200px"))
        self.set_button = w.Button(description="Set alias", button_style="primary", icon="tag")
        self.delete_button = w.Button(description="Delete alias", icon="trash")
        self.message = w.HTML()
        self.model_box.observe(lambda ch: self.select(ch["new"]), names="value")
        self.set_button.on_click(lambda b: self.set_alias(self.alias_box.value, self.version_box.value))
        self.delete_button.on_click(lambda b: self.delete_alias(self.alias_box.value))
        return w.VBox([self.overview, self.model_box, self.versions,
                       w.HBox([self.alias_box, self.version_box, self.set_button, self.delete_button]),
                       self.message])

    def select(self, name: str | None) -> None:
        """Show another registered model."""
        self.name = name
        self.refresh()

    def refresh(self) -> None:
        """Read the registry again and redraw."""
        self.widget  # noqa: B018 - build before filling
        self.overview.value = models_html(self.client)
        if self.name is None:
            self.versions.value = ""
            self._update_copy()
            return
        model = self.client.get_registered_model(self.name)
        self.versions.value = versions_html(self.client, self.name)
        versions = sorted((int(v.version) for v in self.client.search_model_versions(
            f"name = '{_quote(self.name)}'")), reverse=True)
        chosen = self.version_box.value
        self.version_box.options = [str(v) for v in versions]
        # The newest version is picked unless the user chose one that still exists.
        self.version_box.value = chosen if chosen in self.version_box.options else (
            self.version_box.options[0] if versions else None)
        self.alias_box.options = sorted(model.aliases)
        self._update_copy()

    def static_html(self) -> str:
        """What the saved notebook shows: every model, then the shown model's versions."""
        versions = ""
        if self.name is not None and self.versions.value:
            versions = (f"<div class='kf-caption' style='font:12px var(--jp-ui-font-family,"
                        f"sans-serif);margin:8px 0 2px;color:{_fmt.FG1}'>versions of "
                        f"<b>{html.escape(self.name)}</b></div>{self.versions.value}")
        return f"<div class='kf-registry-static'>{self.overview.value}{versions}</div>"

    def to_text(self) -> str:
        """Registered model names, the shown one marked."""
        return "\n".join(
            f"{n}" + (" (shown)" if n == self.name else "") for n in self.model_names
        ) or "No registered models."

    def _update_copy(self) -> None:
        self._fallback.update(self.static_html(), self.to_text())

    def set_alias(self, alias: str, version: str | int | None) -> bool:
        """Point ``alias`` at ``version`` of the shown model (moving it if it exists)."""
        problem = ("Pick a version in '→ version' first." if version in (None, "") else
                   "Type an alias first, e.g. champion." if not (alias or "").strip() else None)
        if problem:
            self.widget  # noqa: B018
            self.message.value = f"<span style='color:{_ERROR}'>{html.escape(problem)}</span>"
            return False
        return self._act(
            lambda: self.client.set_registered_model_alias(str(self.name), alias, str(version)),
            f"@{alias} → version {version}")

    def delete_alias(self, alias: str) -> bool:
        """Remove ``alias`` from the shown model."""
        return self._act(lambda: self.client.delete_registered_model_alias(str(self.name), alias),
                         f"deleted @{alias}")

    def _act(self, action, done: str) -> bool:
        self.widget  # noqa: B018
        try:
            if not self.name:
                raise KernelflowError("No registered model is selected.")
            action()
        except KernelflowError as exc:
            self.message.value = f"<span style='color:{_ERROR}'>{html.escape(exc.message)}</span>"
            return False
        self.refresh()
        self.message.value = (f"<span style='color:{_fmt.STATUS_COLORS['FINISHED']}'>"
                              f"{html.escape(self.name)}: {html.escape(done)}</span>")
        return True

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.overview.value + self.versions.value
        bundle["text/plain"] = self.to_text()
        return bundle

    def _ipython_display_(self) -> None:
        """In a kernel: the static copy, then the widget; elsewhere the static tables alone."""
        from IPython.display import display

        if _fallback.in_kernel():
            self._fallback.show(self.widget, self.static_html(), self.to_text())
        else:
            display({"text/html": self.static_html(), "text/plain": self.to_text()}, raw=True)
