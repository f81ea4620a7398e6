"""The trace tables on a real SQLite file: search filters, paging, delete, tags, assessments."""

from __future__ import annotations

import json
import time

import pytest
import sqlite_utils

import kernelflow as kf
from kernelflow.store import schema


def _make(name, status="OK", tags=None, sleep_s=0.0, tokens=None):
    with kf.start_span(name) as span:
        if tags:
            kf.update_current_trace(tags=tags)
        if tokens:
            span.set_attribute("mlflow.chat.tokenUsage",
                               {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens})
        if sleep_s:
            time.sleep(sleep_s)
        span.set_status(status)
    return span.trace_id


@pytest.fixture
def traces(tracking_uri):
    ids = {
        "a": _make("alpha", tags={"env": "prod"}, tokens=100),
        "b": _make("beta", status="ERROR", tags={"env": "dev"}),
        "c": _make("alpha", tags={"env": "dev"}, sleep_s=0.03, tokens=5),
    }
    kf.flush()
    return ids


def _ids(client, flt, **kw):
    return {t.trace_id for t in client.search_traces(filter_string=flt, **kw)}


def test_filters_on_status_name_tags_time_and_tokens(client, traces):
    a, b, c = traces["a"], traces["b"], traces["c"]
    assert _ids(client, "trace.status = 'OK'") == {a, c}
    assert _ids(client, "status = 'ERROR'") == {b}
    assert _ids(client, "trace.name = 'alpha' AND tags.env = 'dev'") == {c}
    assert _ids(client, "tags.env IN ('prod', 'dev')") == {a, b, c}
    assert _ids(client, "tags.env LIKE 'pr%'") == {a}
    assert _ids(client, "trace.execution_time_ms >= 25") == {c}
    assert _ids(client, "trace.total_tokens > 50") == {a}
    assert _ids(client, "tags.missing IS NULL") == {a, b, c}
    t0 = client.get_trace(a).info.request_time
    assert _ids(client, f"trace.timestamp_ms >= {t0}") == {a, b, c}
    assert _ids(client, "metadata.`mlflow.trace_schema.version` = '3'") == {a, b, c}


def test_bad_filters_say_what_is_wrong(client, traces):
    with pytest.raises(kf.FilterSyntaxError, match="unknown trace attribute 'colour'"):
        client.search_traces(filter_string="trace.colour = 'red'")
    with pytest.raises(kf.FilterSyntaxError, match="compares with a number"):
        client.search_traces(filter_string="trace.execution_time_ms > 'slow'")
    with pytest.raises(kf.FilterSyntaxError, match="trace.status = 'OK'"):
        client.search_traces(filter_string="trace.status = ")


def test_order_by_and_paging(client, traces):
    slowest = client.search_traces(order_by=["execution_time_ms DESC"], max_results=1)
    assert slowest[0].trace_id == traces["c"] and slowest.token
    rest = client.search_traces(order_by=["execution_time_ms DESC"], max_results=5,
                                page_token=slowest.token)
    assert len(rest) == 2 and rest.token is None
    newest_first = [t.trace_id for t in client.search_traces()]
    assert newest_first == [traces["c"], traces["b"], traces["a"]]
    assert client.count_traces(filter_string="trace.name = 'alpha'") == 2


def test_trace_tags_set_and_delete(client, traces):
    a = traces["a"]
    client.set_trace_tag(a, "reviewed", "yes")
    assert client.get_trace(a).info.tags["reviewed"] == "yes"
    client.delete_trace_tag(a, "reviewed")
    assert "reviewed" not in client.get_trace(a).info.tags
    with pytest.raises(kf.ResourceNotFoundError, match="no tag"):
        client.delete_trace_tag(a, "reviewed")
    with pytest.raises(kf.ResourceNotFoundError, match="No trace with id"):
        client.set_trace_tag("tr-0000", "k", "v")


def test_delete_traces_by_id_and_by_age(client, traces):
    assert client.delete_traces("0", trace_ids=[traces["a"]]) == 1
    with pytest.raises(kf.ResourceNotFoundError):
        client.get_trace(traces["a"])
    assert client.delete_traces("0", max_timestamp_millis=int(time.time() * 1000) + 1000,
                                max_traces=1) == 1
    assert client.count_traces() == 1
    with pytest.raises(kf.InvalidParameterError):
        client.delete_traces("0")


def test_assessments_feedback_and_expectations(client, traces):
    a = traces["a"]
    fb = client.log_feedback(a, "correctness", True, rationale="matches the docs",
                             source_type="llm_judge", source_id="gpt-judge")
    ex = client.log_expectation(a, "expected_answer", {"text": "42"}, source_type="HUMAN",
                                source_id="ann")
    assert fb.assessment_id.startswith("a-") and fb.create_time_ms
    got = client.get_assessments(a)
    assert [(x.name, x.kind, x.value) for x in got] == [
        ("correctness", "feedback", True), ("expected_answer", "expectation", {"text": "42"})]
    assert got[0].source_type == "LLM_JUDGE" and got[0].rationale == "matches the docs"
    assert client.get_assessments(a, kind="expectation")[0].assessment_id == ex.assessment_id
    # Updating keeps the id; the trace's info carries its assessments.
    client.log_feedback(a, "correctness", False, assessment_id=fb.assessment_id)
    assert client.get_assessments(a, name="correctness")[0].value is False
    assert len(client.get_trace(a).info.assessments) == 2
    err = client.log_feedback(a, "judge", error="timeout")
    assert client.get_assessments(a, name="judge")[0].error == {"error_code": "ERROR",
                                                              "error_message": "timeout"}
    client.delete_assessment(a, err.assessment_id)
    assert len(client.get_assessments(a)) == 2
    with pytest.raises(kf.InvalidParameterError, match="feedback"):
        client.log_assessment(a, "x", 1, kind="opinion")
    with pytest.raises(kf.ResourceNotFoundError):
        client.log_feedback("tr-missing", "x", 1)


def test_link_traces_to_run(client, traces):
    run = client.create_run("0")
    client.link_traces_to_run([traces["b"]], run.info.run_id)
    assert [t.trace_id for t in client.search_traces(run_id=run.info.run_id)] == [traces["b"]]
    assert client.get_trace(traces["b"]).info.trace_metadata["mlflow.sourceRun"] == run.info.run_id


def test_writing_the_same_trace_twice_changes_nothing(client, store, traces):
    trace = client.get_trace(traces["a"])
    record = {"trace_id": trace.info.trace_id, "experiment_id": "0",
              "request_time": trace.info.request_time, "execution_time": 1, "state": "OK",
              "name": "alpha", "is_root": True, "tags": {}, "metadata": {},
              "spans": [{"span_id": s.span_id, "parent_span_id": s.parent_id, "name": s.name,
                         "start_time_ns": s.start_time_ns, "end_time_ns": s.end_time_ns}
                        for s in trace.data.spans]}
    store.write_traces([record])
    store.write_traces([record])
    again = client.get_trace(traces["a"])
    assert len(again.data.spans) == 1


def test_migration_8_replaces_the_unused_v3_tables(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    with db.conn:
        schema.migrate(db, target=7)
    assert "inputs" in db.table("traces").columns_dict
    db.conn.close()
    from kernelflow.client import get_store

    store = get_store(f"sqlite:///{path}")
    cols = sqlite_utils.Database(store.db_path).table("traces").columns_dict
    assert "request_time" in cols and "inputs" not in cols
    assert {"spans", "trace_tags", "trace_metadata", "assessments"} <= set(
        sqlite_utils.Database(store.db_path).table_names())


def test_any_filter_text_is_a_result_or_a_filter_error(client):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["trace.status", "trace.name", "tags.env", "metadata.`a b`", "=",
                             "!=", ">", "LIKE", "IN", "AND", "OR", "'x'", "3", "(", ")", ",",
                             "trace.execution_time_ms", "IS", "NULL", "`", "'", "run_id"])

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(words, max_size=7).map(" ".join) | st.text(max_size=30))
    def check(text):
        try:
            client.search_traces(filter_string=text)
        except kf.FilterSyntaxError:
            pass

    check()


def test_span_filters_find_traces_by_their_spans(client, tracking_uri):
    with kf.start_span("agent") as root:
        with kf.start_span("search-web", span_type="TOOL") as tool:
            tool.set_status("ERROR")
    with kf.start_span("other"):
        pass
    kf.flush()
    ids = {t.trace_id for t in client.search_traces(filter_string="span.name = 'search-web'")}
    assert ids == {root.trace_id}
    assert {t.trace_id for t in client.search_traces(
        filter_string="span.type = 'TOOL' AND span.status = 'ERROR'")} == {root.trace_id}
    assert len(client.search_traces(filter_string="span.name LIKE '%'")) == 2
    with pytest.raises(kf.FilterSyntaxError, match="unknown span key"):
        client.search_traces(filter_string="span.colour = 'x'")


def test_a_large_batch_is_written_in_many_row_statements_with_nothing_lost(
        client, store, monkeypatch):
    """The writer inserts a batch as multi-row statements (chunked under SQLite's limit of
    bound parameters); every span, tag and token count lands, a repeated span replaces
    the earlier one, and a record sent again (an exporter's retry) adds no tokens."""
    from kernelflow.store import traces as trace_store

    monkeypatch.setattr(trace_store, "_CHUNK_PARAMS", 13 * 7)  # 7 spans per statement
    made = []
    for i in range(40):
        with kf.start_span(f"root-{i}") as root:
            kf.update_current_trace(tags={"i": str(i)})
            for j in range(i % 4):
                with kf.start_span(f"child-{j}") as child:
                    child.add_event("tick", {"j": j})
        made.append((root.trace_id, 1 + i % 4))
    kf.flush()
    for i, (trace_id, n_spans) in enumerate(made):
        trace = client.get_trace(trace_id)
        assert len(trace.data.spans) == n_spans
        assert trace.info.tags["i"] == str(i)
    assert client.get_trace(made[3][0]).data.spans[1].events[0]["name"] == "tick"

    trace_id = "tr-" + "ab" * 16
    spans = [{"span_id": f"{k:016x}", "parent_span_id": None if k == 0 else f"{0:016x}",
              "name": f"s{k}", "start_time_ns": 1_000 + k, "end_time_ns": 2_000 + k}
             for k in range(20)]
    part = {"trace_id": trace_id, "experiment_id": "0", "request_time": 1, "execution_time": 1,
            "state": "OK", "name": "r", "is_root": False, "tags": {}, "spans": spans,
            "metadata": {"mlflow.trace.tokenUsage": {"input_tokens": 1, "output_tokens": 2,
                                                     "total_tokens": 3}}}
    renamed = dict(part, spans=[dict(spans[5], name="renamed")])
    store.write_traces([dict(part, is_root=True)] + [part] * 9 + [renamed])
    trace = client.get_trace(trace_id)
    assert len(trace.data.spans) == 20
    assert {s.name for s in trace.data.spans if s.span_id == f"{5:016x}"} == {"renamed"}
    usage = trace.info.trace_metadata["mlflow.trace.tokenUsage"]
    assert json.loads(usage)["total_tokens"] == 3
    store.write_traces([part])  # sent again later: still counted once
    other = dict(part, spans=[dict(spans[0], span_id=f"{99:016x}")])  # a new part: adds
    store.write_traces([other])
    usage = client.get_trace(trace_id).info.trace_metadata["mlflow.trace.tokenUsage"]
    assert json.loads(usage)["total_tokens"] == 6


def test_get_traces_reads_many_traces_in_the_order_asked(client, traces):
    client.log_feedback(traces["b"], "useful", False)
    got = client.get_traces([traces["c"], "tr-" + "0" * 32, traces["b"], traces["c"]])
    assert [t.info.trace_id for t in got] == [traces["c"], traces["b"]]
    assert [t.data.spans[0].name for t in got] == ["alpha", "beta"]
    assert [a.name for a in got[1].info.assessments] == ["useful"]
    assert got[0].info.tags["env"] == "dev"
    frame = kf.search_traces(experiment_ids=["0"])
    names = {"a": "alpha", "b": "beta", "c": "alpha"}
    assert {row.trace_id: [s["name"] for s in row.spans] for row in frame.itertuples()} == {
        traces[k]: [name] for k, name in names.items()}
    assert client.get_traces([]) == []
