"""The registry pages: ``/models`` (registered models) and ``/model?name=NAME``."""

from __future__ import annotations

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .deployments import served_table
from .formatting import absolute_time, esc, relative_time, run_link

STAGES = ["None", "Staging", "Production", "Archived"]


def _chips(labels) -> str:
    return "".join(f'<span class="kf-chip">@{esc(a)}</span>' for a in labels)


def _html_table(headers: list[str], rows: list[list[str]], css: str) -> pn.pane.HTML:
    """A table from cells that are already escaped HTML."""
    if not rows:
        return shell.html('<span class="kf-muted">None.</span>')
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return shell.html(f'<table class="kf-kv {css}"><tr>{head}</tr>{body}</table>')


def models_frame(models: list) -> pd.DataFrame:
    """One row per registered model; every user string is escaped."""
    rows = []
    for m in models:
        latest = max((int(v.version) for v in m.latest_versions), default=None)
        aliases = " ".join(f"@{a}→v{v}" for a, v in sorted(m.aliases.items()))
        rows.append((f'<a href="{esc(shell.url("model", name=m.name))}">{esc(m.name)}</a>',
                     f"v{latest}" if latest else "-", aliases,
                     relative_time(m.last_updated_timestamp), m.description or ""))
    return pd.DataFrame(rows, columns=["Name", "Latest", "Aliases", "Last updated", "Description"])


def models_page() -> pn.viewable.Viewable:
    """Build the registered models page."""
    client = shell.client()
    try:
        models = list(client.search_registered_models(max_results=1000))
    except KernelflowError as exc:
        return shell.page("models", shell.header("Models"), shell.error_box(exc.message))
    table = pn.widgets.Tabulator(
        models_frame(models), show_index=False, disabled=True, sortable=False, selectable=False,
        layout="fit_data_stretch", sizing_mode="stretch_width", css_classes=["kf-models"],
        formatters={"Name": {"type": "html"}, "Latest": {"type": "plaintext"},
                    "Aliases": {"type": "plaintext"}, "Last updated": {"type": "plaintext"},
                    "Description": {"type": "plaintext"}},
        stylesheets=[shell.CSS, shell.TABLE_CSS],
    )
    empty = shell.html('<span class="kf-muted">No registered models yet. Register one with '
                       "<code>kernelflow.register_model(\"runs:/&lt;run_id&gt;/model\", "
                       "\"name\")</code>.</span>") if not models else shell.html("")
    return shell.page("models", shell.header("Registered models"), empty, table)


class ModelPage:
    """State and widgets of one session's registered model page."""

    def __init__(self, name: str) -> None:
        self.client = shell.client()
        self.name = name
        self.model = self.client.get_registered_model(name)
        self.versions: list = []
        self.head = shell.html("")
        self.body = pn.Column(sizing_mode="stretch_width")
        self.message = shell.html("")
        self.version = pn.widgets.Select(name="Version", options=[], width=110)
        self.alias = pn.widgets.TextInput(name="Alias", placeholder="champion", width=170,
                                          css_classes=["kf-alias-name"])
        self.set_alias = pn.widgets.Button(name="Set alias", button_type="primary", align="end",
                                           width=100, css_classes=["kf-set-alias"])
        self.drop_alias = pn.widgets.Button(name="Remove alias", align="end", width=120,
                                            css_classes=["kf-remove-alias"])
        self.stage = pn.widgets.Select(name="Stage", options=STAGES, value="Staging", width=130)
        self.archive = pn.widgets.Checkbox(name="archive others in stage", align="end")
        self.move = pn.widgets.Button(name="Move to stage", align="end", width=130,
                                      css_classes=["kf-move-stage"])
        self.set_alias.on_click(lambda e: self._act(self._set_alias))
        self.drop_alias.on_click(lambda e: self._act(self._drop_alias))
        self.move.on_click(lambda e: self._act(self._move))
        self.refresh()

    def refresh(self) -> None:
        """Re-read the model, its versions and history and redraw."""
        self.model = self.client.get_registered_model(self.name)
        self.versions = sorted(self.client.search_model_versions(f"name = '{_quote(self.name)}'"),
                               key=lambda v: int(v.version), reverse=True)
        options = [v.version for v in self.versions]
        self.version.options = options
        if options and self.version.value not in options:
            self.version.value = options[0]
        m = self.model
        self.head.object = (
            '<div class="kf-crumbs"><a href="models">Models</a> ›</div>'
            f'<h1 class="kf-title kf-model-name">{esc(m.name)}</h1>'
            f'<div class="kf-muted">{len(self.versions)} versions · updated '
            f"{esc(relative_time(m.last_updated_timestamp))} · aliases {_chips(sorted(m.aliases)) or '-'}"
            f"</div><p>{esc(m.description or '')}</p>"
        )
        self.body[:] = [
            shell.html("<h3>Versions</h3>"), self._versions_table(),
            *served_table(self.client, self.name),
            pn.Row(pn.Column(shell.html("<h3>Tags</h3>"), self._tags()),
                   pn.Column(shell.html("<h3>Alias and stage history</h3>"), self._history()),
                   sizing_mode="stretch_width"),
        ]

    def _versions_table(self) -> pn.pane.HTML:
        rows = []
        for v in self.versions:
            run = self._run_cell(v.run_id)
            rows.append([f"<b>v{esc(v.version)}</b>", esc(relative_time(v.creation_timestamp)),
                         esc(v.current_stage), _chips(sorted(v.aliases)) or "-", run,
                         esc(v.status), esc(v.description or "")])
        return _html_table(["Version", "Registered", "Stage", "Aliases", "Source run", "Status",
                            "Description"], rows, "kf-versions")

    def _run_cell(self, run_id: str | None) -> str:
        if not run_id:
            return "-"
        try:
            return run_link(run_id, self.client.get_run(run_id).info.run_name)
        except KernelflowError:
            return esc(run_id[:8]) + " (deleted)"

    def _tags(self) -> pn.pane.HTML:
        rows = [[esc(k), esc(v)] for k, v in sorted(self.model.tags.items())]
        for v in self.versions:
            rows += [[f"v{esc(v.version)}: {esc(k)}", esc(val)] for k, val in sorted(v.tags.items())]
        return _html_table(["Tag", "Value"], rows, "kf-model-tags")

    def _history(self) -> pn.pane.HTML:
        getter = getattr(self.client, "get_model_label_history", None)
        changes = getter(self.name) if getter else []
        rows = [[esc(c.kind), esc(("@" if c.kind == "alias" else "") + c.label), f"v{esc(c.version)}",
                 esc(absolute_time(c.start_time)),
                 esc(absolute_time(c.end_time)) if c.end_time else "<i>current</i>"]
                for c in sorted(changes, key=lambda c: c.start_time, reverse=True)]
        return _html_table(["Kind", "Label", "Version", "From", "Until"], rows, "kf-history")

    def _set_alias(self) -> str:
        alias = self.alias.value.strip()
        self.client.set_registered_model_alias(self.name, alias, self.version.value)
        return f"@{alias} now points at version {self.version.value}."

    def _drop_alias(self) -> str:
        alias = self.alias.value.strip()
        self.client.delete_registered_model_alias(self.name, alias)
        return f"Removed alias @{alias}."

    def _move(self) -> str:
        self.client.transition_model_version_stage(self.name, self.version.value, self.stage.value,
                                                   archive_existing_versions=self.archive.value)
        return f"Version {self.version.value} is now in {self.stage.value}."

    def _act(self, action) -> None:
        if not self.version.value:
            self.message.object = '<div class="kf-error" role="alert">This model has no versions.</div>'
            return
        shell.run_action(self.message, action, self.refresh)

    def view(self) -> pn.viewable.Viewable:
        """The page's layout."""
        controls = pn.Row(self.version, self.alias, self.set_alias, self.drop_alias,
                          pn.Spacer(width=30), self.stage, self.move, self.archive,
                          sizing_mode="stretch_width")
        return shell.page("models", self.head, controls, self.message, self.body)


def _quote(name: str) -> str:
    return name.replace("'", "''")


def model_page() -> pn.viewable.Viewable:
    """Build the page of the model named by the ``name`` URL argument."""
    try:
        return ModelPage(shell.arg("name")).view()
    except KernelflowError as exc:
        return shell.page("models", shell.header("Model not found", [("models", "Models")]),
                          shell.error_box(exc.message))
