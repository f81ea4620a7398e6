"""The experiments page (``/``): list with run counts, create, rename, delete and restore."""

from __future__ import annotations

import pandas as pd
import panel as pn

from . import shell
from .formatting import esc, relative_time

VIEWS = {"Active": "ACTIVE_ONLY", "Deleted": "DELETED_ONLY", "All": "ALL"}
COLUMNS = ["experiment_id", "Name", "Runs", "Created", "Last updated", "State"]


def experiments_frame(experiments: list, counts: dict[str, int]) -> pd.DataFrame:
    """One row per experiment; names are escaped links to their runs page."""
    rows = []
    for e in experiments:
        link = f'<a href="{esc(shell.url("runs", experiment=e.name))}">{esc(e.name)}</a>'
        rows.append((e.experiment_id, link, counts.get(e.experiment_id, 0),
                     relative_time(e.creation_time), relative_time(e.last_update_time),
                     e.lifecycle_stage))
    return pd.DataFrame(rows, columns=COLUMNS)


class ExperimentsPage:
    """State and widgets of one session's experiments page."""

    def __init__(self) -> None:
        self.client = shell.client()
        self.experiments: list = []
        self.view = pn.widgets.Select(name="State", options=list(VIEWS), value="Active", width=110)
        self.new_name = pn.widgets.TextInput(name="New experiment", placeholder="name",
                                             width=240, css_classes=["kf-new-name"])
        self.create = pn.widgets.Button(name="Create", button_type="primary", width=90,
                                        css_classes=["kf-create"], align="end")
        self.rename_to = pn.widgets.TextInput(name="Rename selected to", placeholder="new name",
                                              width=240, css_classes=["kf-rename-to"])
        self.rename = pn.widgets.Button(name="Rename", width=90, align="end", disabled=True,
                                        css_classes=["kf-rename"])
        self.delete = pn.widgets.Button(name="Delete", button_type="danger", width=90,
                                        align="end", disabled=True, css_classes=["kf-delete-exp"])
        self.restore = pn.widgets.Button(name="Restore", width=90, align="end", disabled=True,
                                         css_classes=["kf-restore-exp"])
        self.message = shell.html("")
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS), show_index=False, selectable=1, disabled=True,
            sortable=False, hidden_columns=["experiment_id"], layout="fit_data_stretch",
            sizing_mode="stretch_width", css_classes=["kf-experiments"],
            formatters={"Name": {"type": "html"}, "Created": {"type": "plaintext"},
                        "Last updated": {"type": "plaintext"}, "State": {"type": "plaintext"}},
            stylesheets=[shell.CSS, shell.TABLE_CSS],
        )
        self.view.param.watch(lambda e: self.reload(), "value")
        self.create.on_click(lambda e: self._act(self._create))
        self.rename.on_click(lambda e: self._act(self._rename))
        self.delete.on_click(lambda e: self._act(lambda: self.client.delete_experiment(self.chosen().experiment_id)))
        self.restore.on_click(lambda e: self._act(lambda: self.client.restore_experiment(self.chosen().experiment_id)))
        self.table.param.watch(lambda e: self._update_buttons(), "selection")
        self.reload()

    def reload(self) -> None:
        """Re-read experiments and run counts."""
        self.experiments = list(self.client.search_experiments(
            view_type=VIEWS[self.view.value], max_results=10_000, order_by=["creation_time DESC"]))
        counts = self.client.count_runs_by_experiment()
        self.table.value = experiments_frame(self.experiments, counts)
        self.table.selection = []
        self._update_buttons()

    def chosen(self):
        """The selected experiment, or None."""
        sel = self.table.selection
        return self.experiments[sel[0]] if sel and sel[0] < len(self.experiments) else None

    def _update_buttons(self) -> None:
        exp = self.chosen()
        self.rename.disabled = exp is None
        self.delete.disabled = exp is None or exp.lifecycle_stage != "active"
        self.restore.disabled = exp is None or exp.lifecycle_stage == "active"

    def _create(self) -> str:
        name = self.new_name.value.strip()
        self.client.create_experiment(name)
        self.new_name.value = ""
        return f"Created experiment {name!r}."

    def _rename(self) -> str:
        exp, new = self.chosen(), self.rename_to.value.strip()
        self.client.rename_experiment(exp.experiment_id, new)
        self.rename_to.value = ""
        return f"Renamed {exp.name!r} to {new!r}."

    def _act(self, action) -> None:
        shell.run_action(self.message, action, self.reload)

    def view_(self) -> pn.viewable.Viewable:
        """The page's layout."""
        forms = pn.Row(self.view, self.new_name, self.create, pn.Spacer(width=30), self.rename_to,
                       self.rename, self.delete, self.restore, sizing_mode="stretch_width")
        return shell.page("experiments", shell.header("Experiments"), forms, self.message,
                          self.table)


def experiments_page() -> pn.viewable.Viewable:
    """Build the experiments page."""
    return ExperimentsPage().view_()
