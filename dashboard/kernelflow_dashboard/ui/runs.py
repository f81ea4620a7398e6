"""The runs page (``/runs?experiment=NAME``): one page of runs at a time, paged in SQL."""

from __future__ import annotations

import math
import re
import time

import pandas as pd
import panel as pn

from kernelflow.errors import KernelflowError

from . import shell
from .formatting import duration, esc, format_value, relative_time, run_link, status_html

PAGE_SIZES = [25, 50, 100, 200]
BASE_SORTS = {
    "Created": "attributes.start_time", "Run name": "attributes.run_name",
    "Status": "attributes.status", "Ended": "attributes.end_time",
}
VIEWS = {"Active": "ACTIVE_ONLY", "Deleted": "DELETED_ONLY", "All": "ALL"}
FIXED = ["Run Name", "Created", "Duration", "Status", "User"]
HEADER_SORTS = {"Run Name": "Run name", "Created": "Created", "Status": "Status"}
UNSORTABLE = {"Duration": False, "User": False}  # not orderable in SQL
GROUPS = (("metrics", "Metrics"), ("params", "Parameters"), ("tags", "Tags"))
CHAR_PX, CELL_PAD_PX, GROUP_PAD_PX, SORTER_PX = 7.5, 18, 28, 22
REFRESH_MS = 3000
DEFAULT_KEYS_PER_KIND = 6
FILTER_HINT = "metrics.rmse < 1 and params.model = 'tree'"


def page_token(offset: int) -> str | None:
    """The store's page token for a result offset (None for the first page)."""
    from kernelflow.paging import encode_page_token

    return encode_page_token(offset) if offset else None


def fetch_page(store, experiment_id: str, filter_string: str, view: str, order: str,
               offset: int, limit: int) -> dict:
    """Return the column lists of one page of runs (SQL does filter, sort and paging)."""
    cols, _ = store.search_runs_columns(
        [experiment_id], filter_string=filter_string or None, run_view_type=view,
        max_results=limit, order_by=[order], page_token=page_token(offset),
    )
    return cols


def order_key(column: str) -> str:
    """The order_by key of a ``kind.key`` column, back-quoting keys that are not plain words."""
    kind, _, key = column.partition(".")
    return column if re.fullmatch(r"[\w.]+", key) else f"{kind}.`{key}`"


def group_widths(frame: pd.DataFrame, groups: dict[str, list[str]],
                 titles: dict[str, str]) -> dict[str, int]:
    """Pixel widths that keep each group's label from being cut (e.g. "Metrics" over one column).

    Only the members of groups narrower than their label get a width; others fit their data.
    """
    widths: dict[str, int] = {}
    for label, members in groups.items():
        natural = {c: max(_header_px(titles.get(c, c)), _text_px(frame[c] if c in frame else []))
                   for c in members}
        needed = len(label) * CHAR_PX * 1.1 + GROUP_PAD_PX
        if sum(natural.values()) < needed:
            share = math.ceil(needed / len(members))
            widths.update({c: max(w, share) for c, w in natural.items()})
    return widths


def _text_px(values) -> int:
    return math.ceil(max([1] + [len(str(v)) for v in values]) * CHAR_PX + CELL_PAD_PX)


def _header_px(title: str) -> int:
    """A header's width: bold text plus the room Tabulator keeps for its sort arrow."""
    return math.ceil(len(title) * CHAR_PX * 1.1 + CELL_PAD_PX + SORTER_PX)


def experiment_keys(store, experiment_id: str, seen: dict) -> dict[str, list[str]]:
    """All metric/param/tag keys of an experiment (store query if available, else those seen)."""
    getter = getattr(store, "get_experiment_keys", None)  # (test doubles may lack it)
    if getter is not None:
        return getter([experiment_id])
    keys: dict[str, list[str]] = {"metrics": [], "params": [], "tags": []}
    for col in seen:
        kind, _, key = col.partition(".")
        if kind in keys and key:
            keys[kind].append(key)
    return {k: sorted(set(v)) for k, v in keys.items()}


def table_value(value) -> str:
    """A cell's text: "-" where the run lacks the key (the store gives NaN/None), as MLflow."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format_value(value)


def to_frame(cols: dict, chosen: list[str], now_ms: float) -> pd.DataFrame:
    """Build the table's DataFrame; user text stays text (escaped where HTML is rendered)."""
    ids = cols.get("run_id", [])
    n = len(ids)
    names = cols.get("tags.mlflow.runName", [None] * n)
    users = cols.get("tags.mlflow.user", [None] * n)
    data = {
        "run_id": ids,
        "Run Name": [run_link(i, nm or "") for i, nm in zip(ids, names, strict=False)],
        "Created": [relative_time(s, now_ms) for s in cols.get("start_time", [])],
        "Duration": [duration(s, e, now_ms) for s, e in zip(cols.get("start_time", []),
                                                             cols.get("end_time", []), strict=False)],
        "Status": [status_html(s) for s in cols.get("status", [])],
        "User": [u or "" for u in users],
    }
    for col in chosen:
        data[col] = [table_value(v) for v in cols.get(col, [None] * n)]
    return pd.DataFrame(data)


class RunsPage:
    """State and widgets of one browser session's runs page."""

    def __init__(self, experiment_name: str, experiment_id: str = "") -> None:
        self.client = shell.client()
        self.store = self.client  # the public Client: search_runs_columns, count_runs, keys
        self.experiment = self._resolve(experiment_name, experiment_id)
        self.offset = 0
        self.total = 0
        self.selected: set[str] = set()
        self.keys: dict[str, list[str]] = {"metrics": [], "params": [], "tags": []}
        self.cols: dict = {}
        self._keys_total = -1
        self._muted = False
        self._build_widgets()

    def _resolve(self, name: str, experiment_id: str = ""):
        if name:
            return self.client.get_experiment_by_name(name)
        if experiment_id:  # MLflow's links name experiments by id
            try:
                return self.client.get_experiment(experiment_id)
            except KernelflowError:
                return None
        exps = self.client.search_experiments(max_results=1, order_by=["creation_time DESC"])
        return exps[0] if exps else None

    # -- widgets ---------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.filter = pn.widgets.TextInput(
            placeholder=f"Search runs: {FILTER_HINT}", sizing_mode="stretch_width",
            name="", css_classes=["kf-filter"],
        )
        self.view = pn.widgets.Select(name="State", options=list(VIEWS), value="Active", width=110)
        self.sort = pn.widgets.Select(name="Sort", options=list(BASE_SORTS), value="Created",
                                      width=180, css_classes=["kf-sort"])
        self.descending = pn.widgets.Select(name="Order", options=["↓ Descending", "↑ Ascending"],
                                            width=130, css_classes=["kf-order"])
        self.columns = pn.widgets.MultiChoice(name="Columns", options=[], value=[],
                                              sizing_mode="stretch_width", max_width=700)
        self.page_size = pn.widgets.Select(name="Rows", options=PAGE_SIZES, value=50, width=80)
        self.error = shell.html("", visible=False)
        self.summary = shell.html("", sizing_mode="fixed", width=300, align="center",
                                  styles={"text-align": "right"})
        self.prev = pn.widgets.Button(name="‹ Previous", width=100, css_classes=["kf-prev"])
        self.next = pn.widgets.Button(name="Next ›", width=100, css_classes=["kf-next"])
        self.compare = shell.html("", sizing_mode="fixed", width=220, align="center")
        self.delete = pn.widgets.Button(name="Delete selected", button_type="danger",
                                        disabled=True, width=140, css_classes=["kf-delete"])
        self.restore = pn.widgets.Button(name="Restore selected", disabled=True, width=140,
                                         visible=False)
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=["run_id", *FIXED]), show_index=False, selectable="checkbox",
            disabled=True, sortable=UNSORTABLE, pagination=None, hidden_columns=["run_id"],
            layout="fit_data_stretch", sizing_mode="stretch_width", css_classes=["kf-runs"],
            stylesheets=[shell.CSS, shell.TABLE_CSS],
        )
        self._wire()

    def _wire(self) -> None:
        self.filter.param.watch(lambda e: self.reload(reset=True), "value")
        for w in (self.view, self.sort, self.descending, self.page_size):
            w.param.watch(lambda e: None if self._muted else self.reload(reset=True), "value")
        self.columns.param.watch(lambda e: None if self._muted else self.render(), "value")
        self.prev.on_click(lambda e: self.move(-1))
        self.next.on_click(lambda e: self.move(1))
        self.table.param.watch(self._on_select, "selection")
        self.table.param.watch(self._on_header_sort, "sorters")
        self.delete.on_click(lambda e: self._set_deleted(True))
        self.restore.on_click(lambda e: self._set_deleted(False))

    # -- data ------------------------------------------------------------------
    def order(self) -> str:
        """The order_by term of the current sort choice."""
        key = BASE_SORTS.get(self.sort.value) or order_key(self.sort.value)
        return f"{key} {'DESC' if self.descending.value.startswith('↓') else 'ASC'}"

    def sorted_column(self) -> str:
        """The table column the current sort choice orders by."""
        fields = {v: k for k, v in HEADER_SORTS.items()}
        return fields.get(self.sort.value, self.sort.value)

    def _on_header_sort(self, event) -> None:
        """A header click: order in SQL by that column (clicking it again flips the order)."""
        if self._muted or not event.new:
            return
        field, direction = event.new[0]["field"], event.new[0]["dir"]
        choice = HEADER_SORTS.get(field, field)
        if choice not in self.sort.options:
            return
        descending = (not self.descending.value.startswith("↓") if choice == self.sort.value
                      else direction == "desc")
        self._muted = True
        try:
            self.sort.value = choice
            self.descending.value = self.descending.options[0 if descending else 1]
        finally:
            self._muted = False
        self.reload(reset=True)
        # The browser sorted the page's text; SQL's order replaces it once this is cleared.
        pn.state.execute(self._clear_header_sort, schedule=True)

    def _clear_header_sort(self) -> None:
        self._muted = True
        try:
            self.table.sorters = []
        finally:
            self._muted = False

    def reload(self, reset: bool = False) -> None:
        """Fetch the current page (and count) from the store and redraw."""
        if self.experiment is None:
            return
        if reset:
            self.offset = 0
        try:
            self.total = self.store.count_runs([self.experiment.experiment_id],
                                               self.filter.value or None, VIEWS[self.view.value])
            self.cols = fetch_page(self.store, self.experiment.experiment_id, self.filter.value,
                                   VIEWS[self.view.value], self.order(), self.offset,
                                   self.page_size.value)
        except KernelflowError as exc:
            self._show_error(exc.message)
            self._show_no_results()
            return
        self._show_error("")
        if self.total != self._keys_total:  # new runs may bring new keys
            self._keys_total = self.total
            self._muted = True
            try:
                self._update_keys()
            finally:
                self._muted = False
        self.render()

    def _update_keys(self) -> None:
        keys = experiment_keys(self.store, self.experiment.experiment_id, self.cols)
        if keys == self.keys:
            return
        first = not any(self.keys.values())
        self.keys = keys
        options = [f"metrics.{k}" for k in keys["metrics"]] + [f"params.{k}" for k in keys["params"]]
        options += [f"tags.{k}" for k in keys["tags"] if not k.startswith("mlflow.")]
        self.columns.options = options
        if first and not self.columns.value:
            self.columns.value = ([f"metrics.{k}" for k in keys["metrics"][:DEFAULT_KEYS_PER_KIND]]
                                  + [f"params.{k}" for k in keys["params"][:DEFAULT_KEYS_PER_KIND]])
        self.sort.options = list(BASE_SORTS) + options

    def render(self) -> None:
        """Redraw the table and the paging controls from the fetched page."""
        frame = to_frame(self.cols, list(self.columns.value), time.time() * 1000)
        self._configure_columns(list(self.columns.value), frame)
        self.table.value = frame
        ids = list(frame["run_id"])
        self.table.selection = [i for i, rid in enumerate(ids) if rid in self.selected]
        last = min(self.offset + len(ids), self.total)
        first = self.offset + 1 if ids else 0
        self.summary.object = (
            f'<span class="kf-muted kf-summary"><b>{self.total:,}</b> matching runs'
            f' · showing {first:,}–{last:,}</span>'
        )
        self.prev.disabled = self.offset == 0
        self.next.disabled = last >= self.total
        self._update_actions()

    def _configure_columns(self, chosen: list[str], frame: pd.DataFrame) -> None:
        formatters = {"Run Name": {"type": "html"}, "Status": {"type": "html"}}
        for col in ["Created", "Duration", "User", *chosen]:
            formatters[col] = {"type": "plaintext"}
        titles = {col: esc(col.split(".", 1)[1]) for col in chosen}
        arrow = " ↓" if self.descending.value.startswith("↓") else " ↑"
        sorted_col = self.sorted_column()
        titles[sorted_col] = titles.get(sorted_col, esc(sorted_col)) + arrow
        groups = {label: [c for c in chosen if c.startswith(kind + ".")] for kind, label in GROUPS}
        groups = {label: members for label, members in groups.items() if members}
        self.table.param.update(
            formatters=formatters, titles=titles, groups=groups,
            widths=group_widths(frame, groups, titles),
            text_align={c: "right" for c in chosen if c.startswith("metrics.")})

    def move(self, direction: int) -> None:
        """Go to the previous (-1) or next (+1) page."""
        size = self.page_size.value
        self.offset = max(0, min(self.offset + direction * size, max(0, self.total - 1)))
        self.reload()

    def _show_no_results(self) -> None:
        """Empty the table so no stale rows sit under a filter error."""
        self.cols, self.total, self.offset = {}, 0, 0
        self.render()
        self.summary.object = ('<span class="kf-muted kf-summary kf-summary-error">'
                               "No runs shown: fix the filter above</span>")

    def _show_error(self, message: str) -> None:
        self.error.object = (f'<div class="kf-error kf-filter-error" role="alert">{esc(message)}</div>'
                             if message else "")
        self.error.visible = bool(message)

    # -- selection and actions ---------------------------------------------------
    def _on_select(self, event) -> None:
        ids = list(self.table.value["run_id"]) if len(self.table.value) else []
        on_page = set(ids)
        chosen = {ids[i] for i in event.new if i < len(ids)}
        self.selected = (self.selected - on_page) | chosen
        self._update_actions()

    def _update_actions(self) -> None:
        n = len(self.selected)
        deleted_view = self.view.value == "Deleted"
        self.delete.visible, self.restore.visible = not deleted_view, deleted_view
        self.delete.disabled = self.restore.disabled = n == 0
        href = shell.url("compare", runs=",".join(sorted(self.selected)))
        cls = "kf-btn kf-compare" + ("" if n >= 2 else " kf-disabled")
        label = f"Compare {n} runs" if n >= 2 else "Select 2+ runs to compare"
        self.compare.object = f'<a class="{cls}" href="{esc(href)}">{label}</a>'

    def _set_deleted(self, deleted: bool) -> None:
        try:
            for rid in sorted(self.selected):
                (self.client.delete_run if deleted else self.client.restore_run)(rid)
        except KernelflowError as exc:
            self._show_error(exc.message)
            return
        self.selected.clear()
        self.reload()

    def tick(self) -> None:
        """Periodic refresh: redraw when runs are running or the run count changed."""
        if self.experiment is None:
            return
        running = "RUNNING" in self.cols.get("status", [])
        try:
            total = self.store.count_runs([self.experiment.experiment_id],
                                          self.filter.value or None, VIEWS[self.view.value])
        except KernelflowError:
            return
        if running or total != self.total:
            self.reload()

    # -- layout ----------------------------------------------------------------
    def view_(self) -> pn.viewable.Viewable:
        """The page's layout."""
        if self.experiment is None:
            return self._missing()
        name = self.experiment.name
        head = shell.header(name, [("./", "Experiments"), (shell.url("runs", experiment=name), name)],
                            f'<span class="kf-muted">Experiment id {esc(self.experiment.experiment_id)}'
                            " · filter with MLflow's grammar: metrics.x &gt; 0.9 and params.y = 'z',"
                            " attributes.status = 'FINISHED', tags.k LIKE 'a%'</span>")
        controls = pn.Row(self.view, self.sort, self.descending, self.page_size, self.columns,
                          sizing_mode="stretch_width")
        actions = pn.Row(self.compare, self.delete, self.restore, pn.HSpacer(), self.summary,
                         self.prev, self.next, sizing_mode="stretch_width")
        return shell.page("runs", head, self.filter, self.error, controls, actions, self.table,
                          experiment=name)

    def _missing(self) -> pn.viewable.Viewable:
        name, exp_id = shell.arg("experiment"), shell.arg("experiment_id")
        msg = (f"No experiment named {name!r}. Pick one on the Experiments page." if name
               else f"No experiment with id {exp_id!r}. Pick one on the Experiments page."
               if exp_id else "There are no experiments yet. Create one on the Experiments page.")
        return shell.page("runs", shell.header("Runs", [("./", "Experiments")]),
                          shell.error_box(msg))


def runs_page() -> pn.viewable.Viewable:
    """Build the runs page for the ``experiment`` (name) or ``experiment_id`` URL argument."""
    page = RunsPage(shell.arg("experiment"), shell.arg("experiment_id"))
    page.reload()
    if page.experiment is not None:
        pn.state.add_periodic_callback(page.tick, period=REFRESH_MS)
    return page.view_()
