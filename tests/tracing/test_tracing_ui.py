"""The dashboard's traces pages in a real headless Chromium: list, filter, paging, one trace."""

from __future__ import annotations

import pytest
from browser_helpers import open_page, shot, wait_until
from tracing_server import start, stop

import kernelflow as kf

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="alert(document.domain)"><script>alert(1)</script>'


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    server = start(tmp_path_factory.mktemp("ui-traces"), api_only=False)
    previous = kf.get_tracking_uri()
    kf.set_tracking_uri(server.db_uri)
    try:
        kf.set_experiment("ui-traces")

        @kf.trace(name=HOSTILE, span_type="CHAIN")
        def agent(question):
            with kf.start_span("llm", span_type="CHAT_MODEL") as span:
                span.set_inputs({"messages": [{"role": "user", "content": HOSTILE}]})
                span.set_outputs({"content": "fine answer"})
                span.set_attribute("mlflow.chat.tokenUsage",
                                   {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42})
            return "done"

        with kf.start_run(run_name="traced-run") as run:
            agent("why?")
        hostile_id = kf.get_last_active_trace_id()
        for i in range(55):
            with kf.start_span(f"bulk-{i}") as span:
                if i % 11 == 0:
                    span.set_status("ERROR")
        kf.flush()
        kf.Client(server.db_uri).log_feedback(hostile_id, "helpful", True, rationale=HOSTILE)
    finally:
        kf.set_tracking_uri(previous)
        from kernelflow import fluent

        fluent._active_experiment_id = None
    yield {"url": server.url, "hostile": hostile_id, "run": run.info.run_id}
    stop(server)


def _rows(page) -> list[str]:
    return page.locator(".kf-traces .tabulator-row").all_inner_texts()


def test_traces_list_pages_filters_and_escapes(seeded, page):
    open_page(page, f"{seeded['url']}/traces", ".kf-traces .tabulator-row")
    wait_until(page, lambda: len(_rows(page)) == 50, "a first page of 50 traces")
    assert "1–50 of 56 traces" in page.locator(".kf-trace-count").inner_text()
    assert page.locator(".kf-traces img").count() == 0  # the hostile name is text
    page.locator(".kf-next button").click()
    wait_until(page, lambda: len(_rows(page)) == 6, "the second page")
    hostile_row = next(r for r in _rows(page) if "onerror" in r)
    assert "42" in hostile_row and "CHAIN" not in hostile_row
    box = page.locator(".kf-trace-filter input")
    box.fill("trace.status = 'ERROR'")
    box.press("Enter")
    wait_until(page, lambda: len(_rows(page)) == 5, "the ERROR traces only")
    assert all("ERROR" in r for r in _rows(page))
    box.fill("trace.colour = 'red'")
    box.press("Enter")
    page.locator(".kf-error", has_text="unknown trace attribute").wait_for()
    shot(page, "tracing-list")


def test_trace_page_shows_tree_timeline_and_details(seeded, page):
    open_page(page, f"{seeded['url']}/traces?trace_id={seeded['hostile']}", ".kf-span-tree")
    assert HOSTILE in page.locator(".kf-trace-title").inner_text()
    assert page.locator(".kf-span-tree img, .kf-span-tree script").count() == 0
    names = page.locator(".kf-span-tree .kf-span-name").all_inner_texts()
    assert names == [HOSTILE, "llm"]
    llm = page.locator(".kf-span-tree details", has_text="llm").last
    assert "fine answer" not in llm.inner_text()
    llm.locator("summary").click()
    wait_until(page, lambda: "fine answer" in llm.inner_text(), "the span's outputs")
    assert "<script>alert(1)</script>" in llm.inner_text()  # the hostile input, as text
    page.locator(".kf-waterfall canvas").first.wait_for()
    assert "helpful" in page.locator(".kf-assessments").inner_text()
    # the summary renders beside the tree, maybe a moment later: wait for its text
    page.locator(".kf-trace-summary", has_text="42 tokens").wait_for()
    shot(page, "tracing-trace")


def test_unknown_trace_explains(seeded, page):
    open_page(page, f"{seeded['url']}/traces?trace_id=tr-nope", ".kf-error")
    assert "No trace with id" in page.locator(".kf-error").inner_text()


def test_run_page_has_a_traces_tab_linking_to_its_traces(seeded, page):
    open_page(page, f"{seeded['url']}/run?id={seeded['run']}", ".bk-tab")
    page.locator(".bk-tab", has_text="Traces").click()
    link = page.locator(".kf-run-traces a", has_text="onerror")
    link.wait_for()
    assert page.locator(".kf-run-traces img").count() == 0
    link.click()
    page.locator(".kf-span-tree").wait_for()
    # the summary renders beside the tree, maybe a moment later: wait for its text
    page.locator(".kf-trace-summary", has_text="42 tokens").wait_for()


def test_under_cell_span_tree_opens_a_span_on_click(tracking_uri, page):
    # The HTML a cell shows under it (kernelflow.tracing.notebook uses trace_html), in Chromium.
    from kernelflow.tracing.display import trace_html

    @kf.trace(name=HOSTILE)
    def outer(q):
        with kf.start_span("inner", span_type="TOOL") as s:
            s.set_inputs({"q": q})
            s.set_outputs("inner result")
        return q

    outer(HOSTILE)
    html = trace_html([kf.get_trace(kf.get_last_active_trace_id())])
    page.set_content(f"<html><body>{html}</body></html>")
    assert page.locator(".kf-trace img, .kf-trace script").count() == 0
    inner = page.locator("details.kf-span", has_text="inner")
    assert not inner.locator("pre").first.is_visible()
    inner.locator("summary").click()
    wait_until(page, lambda: "inner result" in inner.inner_text(), "the span's outputs")
    assert "<script>alert(1)</script>" in inner.inner_text()
