"""Issue 16.1 for the widgets that stay interactive (runs table, registry): each is shown as a
static copy followed by the widget; the copy follows the widget's changes, and outside a
kernel only the static table shows. (Real kernels: test_nb_saved_outputs.py; JupyterLab:
test_nb_lab_restart.py.)"""

from __future__ import annotations

import pytest
from IPython.utils.capture import capture_output

import kernelflow as kf
from kernelflow.widgets._fallback import MIME_WIDGET, StaticFallback
from kernelflow.widgets.registry import RegistryBrowser
from kernelflow.widgets.runs_table import RunsTable

sklearn = pytest.importorskip("sklearn")


@pytest.fixture
def runs(shell):
    for name, acc in (("a", 0.5), ("b", 0.9)):
        with kf.start_run(run_name=name):
            kf.log_metric("acc", acc)


def shown(widget_owner) -> list:
    """Show ``widget_owner`` as a kernel would (copy, then widget); return the outputs."""
    with capture_output() as cap:
        widget_owner._fallback.show(widget_owner.widget, widget_owner.static_html(),
                                    widget_owner.to_text())
    return cap.outputs


def test_outside_a_kernel_only_the_static_table_shows(runs):
    with capture_output() as cap:
        RunsTable()._ipython_display_()
    [out] = cap.outputs
    assert MIME_WIDGET not in out.data
    assert "<table" in out.data["text/html"] and ">0.9<" in out.data["text/html"]


def test_runs_table_shows_a_copy_then_the_widget_marked_with_its_id(runs):
    table = RunsTable()
    copy, view = shown(table)
    assert MIME_WIDGET not in copy.data and MIME_WIDGET in view.data
    assert view.data["text/plain"] == ""
    page = copy.data["text/html"]
    assert f"kf-fb-{table._fallback.uid}" in page and "2 runs" in page and ">0.5<" in page
    assert table._fallback.live_class in table.widget._dom_classes
    assert copy.transient["display_id"]  # updated in place later


def test_the_copy_follows_filter_and_comparison(runs):
    table = RunsTable()
    shown(table)
    with capture_output() as cap:
        table.filter_box.value = "metrics.acc > 0.6"
    [update] = cap.outputs
    assert update.update and ">0.9<" in update.data["text/html"]
    assert ">0.5<" not in update.data["text/html"] and "filter <code>" in update.data["text/html"]
    with capture_output() as cap:
        table.refresh()  # nothing changed: nothing sent
    assert cap.outputs == []
    with capture_output() as cap:
        table.compare([r.info.run_id for r in table.runs])
    [update] = cap.outputs
    assert "kf-static-chart" in update.data["text/html"]  # the comparison is kept too


def test_no_update_before_the_copy_is_shown(runs):
    table = RunsTable()
    table.widget  # noqa: B018 - built (as _repr_mimebundle_ does) but not shown as a copy
    with capture_output() as cap:
        table.filter_box.value = "metrics.acc > 0.6"
    assert cap.outputs == [] and table.runs[0].info.run_name == "b"


def test_registry_copy_follows_alias_moves(shell):
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit([[0], [1]], [0, 1])
    with kf.start_run():
        info = kf.log_model(model, "model")
    kf.register_model(info.model_uri, "iris")
    browser = RegistryBrowser("iris")
    copy, view = shown(browser)
    assert "versions of <b>iris</b>" in copy.data["text/html"] and "@" not in copy.data["text/plain"]
    assert browser._fallback.live_class in browser.widget._dom_classes
    with capture_output() as cap:
        assert browser.set_alias("champion", "1")
    [update] = cap.outputs
    assert "<code>@champion</code>" in update.data["text/html"]


def test_style_swaps_the_copy_and_the_live_view():
    fb = StaticFallback()
    style = fb.style()
    me = f".jp-OutputArea-child:has(.kf-fb-{fb.uid})"
    assert f"{me}:has(+ .jp-OutputArea-child .kf-live-{fb.uid}){{display:none}}" in style
    assert f"{me} + .jp-OutputArea-child:not(:has(.kf-live-{fb.uid})){{display:none}}" in style
    assert StaticFallback().uid != fb.uid


def test_a_table_shown_twice_updates_both_copies(runs):
    table = RunsTable()
    first, _ = shown(table)
    second, _ = shown(table)
    assert first.transient["display_id"] != second.transient["display_id"]
    with capture_output() as cap:
        table.filter_box.value = "metrics.acc > 0.6"
    assert sorted(u.transient["display_id"] for u in cap.outputs) == sorted(
        o.transient["display_id"] for o in (first, second))
    assert all(u.update and ">0.5<" not in u.data["text/html"] for u in cap.outputs)
