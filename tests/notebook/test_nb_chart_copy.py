"""Issue 16.1 for the live chart: shown as a static copy followed by the widget, the copy is
redrawn at most every ``COPY_INTERVAL_S`` (on a fake clock here) so a kernel that dies mid-run
leaves its last picture; at the run's end the copy becomes the final chart and the widget's
output is emptied. (A killed kernel: test_nb_saved_outputs.py; JupyterLab:
test_nb_lab_chart_restart.py.)"""

from __future__ import annotations

import pytest
from IPython.utils.capture import capture_output

import kernelflow as kf
from kernelflow.widgets import live_chart
from kernelflow.widgets._fallback import MIME_WIDGET
from kernelflow.widgets.live_chart import COPY_INTERVAL_S, LiveChart


@pytest.fixture
def clock(monkeypatch):
    """The copy's clock, moved by hand: ``clock.now = t``."""

    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(live_chart, "_clock", fake)
    return fake


@pytest.fixture
def chart(shell, clock):
    """A live chart of a running run, shown (copy and widget) as in a kernel; not started."""
    run = kf.start_run(run_name="copied")
    with capture_output() as cap:
        shown = LiveChart(run.info.run_id).display()
    shown.outputs = cap.outputs
    yield shown
    shown._fallback = None
    kf.end_run()


def log(start: int, stop: int) -> None:
    for i in range(start, stop):
        kf.log_metric("loss", 1 / (i + 1), step=i)
    kf.flush()


def refreshed(chart, clock, at: float) -> list:
    """Refresh the chart at time ``at``; the display messages it sent."""
    clock.now = at
    with capture_output() as cap:
        chart.refresh()
    return cap.outputs


def test_shown_as_a_copy_then_the_widget_marked_with_its_id(chart):
    copy, view = chart.outputs
    assert MIME_WIDGET not in copy.data and set(view.data) == {MIME_WIDGET, "text/plain"}
    assert view.data["text/plain"] == ""
    uid = chart._fallback.uid
    assert f"kf-fb-{uid}" in copy.data["text/html"] and "no points yet" in copy.data["text/html"]
    assert f"kf-live-{uid}" in chart.view._dom_classes  # the copy's CSS hides it while this shows
    assert copy.transient["display_id"] and view.transient["display_id"]


def test_copy_follows_the_chart_at_most_every_interval(chart, clock):
    start = clock.now
    assert refreshed(chart, clock, start + 0.5) == []  # no points yet: nothing to copy
    log(0, 10)
    [copy] = refreshed(chart, clock, start + 0.6)  # the first points are copied at once
    page = copy.data["text/html"]
    assert copy.update and copy.transient["display_id"] == chart.outputs[0].transient["display_id"]
    assert 'data-points="10"' in page and "RUNNING" in page and "copied" in page
    assert "<img class='kf-static-chart'" in page and "drawn at" in page  # a picture, sanitizer-proof
    assert "kf-final" not in page and "loss=0.1" in copy.data["text/plain"]
    log(10, 20)
    assert refreshed(chart, clock, start + 1.0) == []  # redrawn, but the copy is not due
    assert 'data-points="20"' in chart.widget.value
    [copy] = refreshed(chart, clock, start + 0.6 + COPY_INTERVAL_S)  # nothing new, copy lagged
    assert 'data-points="20"' in copy.data["text/html"]
    log(20, 30)
    assert refreshed(chart, clock, start + 1.0 + COPY_INTERVAL_S) == []  # too soon again
    [copy] = refreshed(chart, clock, start + 0.6 + 2 * COPY_INTERVAL_S)
    assert 'data-points="30"' in copy.data["text/html"]
    assert refreshed(chart, clock, start + 100) == []  # nothing new, nothing sent
    assert chart.copies == 3


def test_copy_backs_off_when_drawing_it_costs_more_than_the_budget(chart, clock):
    chart.budget = 1e-7  # any drawing "costs" more than the budget allows
    log(0, 5)
    assert len(refreshed(chart, clock, clock.now + 0.5)) == 1
    log(5, 10)
    assert refreshed(chart, clock, clock.now + 10 * COPY_INTERVAL_S) == []


def test_the_end_leaves_the_final_chart_and_empties_the_widget_output(chart, clock):
    log(0, 30)
    kf.end_run()
    fallback = chart._fallback
    with capture_output() as cap:
        chart.stop()
    final, emptied = cap.outputs
    copy_id, view_id = (o.transient["display_id"] for o in chart.outputs)
    assert final.update and final.transient["display_id"] == copy_id
    page = final.data["text/html"]
    uid = page.split("kf-fb-", 1)[1][:12]
    assert page.startswith("<div class='kf-fallback") and "<style>" in page
    assert f"+ .jp-OutputArea-child:not(:has(.kf-live-{uid})){{display:none}}" in page  # hides ...
    assert "kf-final" in page and "FINISHED" in page and 'data-points="30"' in page
    assert final.data["image/svg+xml"].startswith("<svg") and "loss=0.0333" in final.data["text/plain"]
    assert emptied.update and emptied.transient["display_id"] == view_id  # ... this, left empty
    assert emptied.data == {"text/plain": ""}
    assert chart.view.comm is None  # the widget is closed
    with capture_output() as cap:
        chart.refresh(force=True)
        fallback.update("<p>late</p>", "late")
    assert cap.outputs == []  # nothing follows the final chart


def test_a_run_ended_elsewhere_updates_the_copy_without_waiting(chart, clock):
    log(0, 3)
    assert len(refreshed(chart, clock, clock.now + 0.1)) == 1
    log(3, 4)
    assert refreshed(chart, clock, clock.now + 0.1) == []  # not due
    kf.end_run()  # (kf.live() without stop(): the poller's last refresh sees the run end)
    [copy] = refreshed(chart, clock, clock.now + 0.1)
    assert "FINISHED" in copy.data["text/html"] and 'data-points="4"' in copy.data["text/html"]
    assert chart.finished
