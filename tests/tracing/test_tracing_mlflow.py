"""The official mlflow 3.17 client logs and reads traces against a kernelflow server."""

from __future__ import annotations

import pytest
from tracing_server import start, stop

import kernelflow as kf

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.mlflow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start(tmp_path_factory.mktemp("mlflow-traces"))
    yield srv
    stop(srv)


@pytest.fixture
def ml(server, monkeypatch):
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()


def _chain(ml):
    @ml.trace(span_type="CHAIN")
    def chain(question):
        with ml.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"q": question})
            span.set_outputs(["doc"])
            span.set_attribute("mlflow.chat.tokenUsage",
                               {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})
        ml.update_current_trace(tags={"env": "test"})
        return question.upper()

    return chain


def test_mlflow_client_logs_a_trace_we_store_and_it_reads_back(ml, server):
    exp = ml.set_experiment("mlflow-traces")
    assert _chain(ml)("hi") == "HI"
    trace_id = ml.get_last_active_trace_id()
    got = ml.get_trace(trace_id)
    assert got is not None and got.info.trace_id == trace_id
    assert got.info.state == "OK" and got.info.experiment_id == exp.experiment_id
    names = {s.name: s for s in got.data.spans}
    assert set(names) == {"chain", "retrieve"}
    assert names["retrieve"].parent_id == names["chain"].span_id
    assert names["retrieve"].inputs == {"q": "hi"} and names["retrieve"].outputs == ["doc"]
    assert names["retrieve"].span_type == "RETRIEVER"
    assert names["chain"].outputs == "HI" and got.info.tags["env"] == "test"
    # And kernelflow's own client reads the same file.
    mine = kf.Client(server.db_uri).get_trace(trace_id)
    assert {s.name for s in mine.data.spans} == {"chain", "retrieve"}
    assert mine.info.token_usage["total_tokens"] == 7
    assert mine.info.name == "chain"


def test_mlflow_search_tags_link_assess_delete(ml, server):
    exp = ml.set_experiment("mlflow-traces-2")
    chain = _chain(ml)
    chain("a")
    first = ml.get_last_active_trace_id()
    chain("b")
    second = ml.get_last_active_trace_id()
    frame = ml.search_traces(locations=[exp.experiment_id])
    assert set(frame["trace_id"]) == {first, second}
    ok = ml.search_traces(locations=[exp.experiment_id], filter_string="trace.status = 'OK'",
                          return_type="list")
    assert {t.info.trace_id for t in ok} == {first, second}
    client = ml.MlflowClient()
    client.set_trace_tag(first, "reviewed", "yes")
    assert ml.get_trace(first).info.tags["reviewed"] == "yes"
    tagged = ml.search_traces(locations=[exp.experiment_id],
                              filter_string="tags.reviewed = 'yes'", return_type="list")
    assert [t.info.trace_id for t in tagged] == [first]
    client.delete_trace_tag(first, "reviewed")
    assert "reviewed" not in ml.get_trace(first).info.tags
    run = client.create_run(exp.experiment_id)
    client.link_traces_to_run([second], run.info.run_id)
    assert [t.trace_id for t in kf.Client(server.db_uri).search_traces(run_id=run.info.run_id)] \
        == [second]
    feedback = ml.log_feedback(trace_id=first, name="correct", value=True, rationale="fine")
    assert feedback.assessment_id
    assessments = kf.Client(server.db_uri).get_assessments(first)
    assert [(a.name, a.value, a.rationale) for a in assessments] == [("correct", True, "fine")]
    assert [a.name for a in ml.get_trace(first).info.assessments] == ["correct"]
    assert client.delete_traces(exp.experiment_id, trace_ids=[first]) == 1
    left = ml.search_traces(locations=[exp.experiment_id], return_type="list")
    assert [t.info.trace_id for t in left] == [second]


def test_mlflow_client_reads_traces_kernelflow_recorded(ml, server):
    import kernelflow.tracing as kft

    previous = kf.get_tracking_uri()
    kf.set_tracking_uri(server.db_uri)
    try:
        with kf.start_run() as run:
            with kf.start_span("kf-root", span_type="AGENT") as root:
                with kf.start_span("kf-llm", span_type="CHAT_MODEL") as llm:
                    llm.set_inputs({"messages": [{"role": "user", "content": "hi"}]})
                    llm.set_outputs({"content": "hello"})
                    llm.add_event("retry", {"attempt": 2})
        kf.flush()
    finally:
        kf.set_tracking_uri(previous)
        kft.set_destination()
    got = ml.get_trace(root.trace_id)
    spans = {s.name: s for s in got.data.spans}
    assert spans["kf-llm"].parent_id == spans["kf-root"].span_id
    assert spans["kf-llm"].span_type == "CHAT_MODEL"
    assert spans["kf-llm"].inputs == {"messages": [{"role": "user", "content": "hi"}]}
    assert spans["kf-llm"].outputs == {"content": "hello"}
    assert spans["kf-llm"].events[0].name == "retry"
    assert got.info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    found = ml.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id,
                             return_type="list")
    assert [t.info.trace_id for t in found] == [root.trace_id]


def test_kf_search_traces_frame_is_shaped_like_mlflows(tracking_uri):
    """Same columns in the same order; the ``trace`` column is MLflow's Trace JSON text,
    which MLflow's own ``Trace.from_json`` reads back, and spans are MLflow span dicts."""
    from mlflow.entities import Trace as MlflowTrace

    @kf.trace(span_type="CHAIN")
    def chain(question):
        with kf.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"q": question})
            span.set_outputs(["doc"])
        return "answer"

    chain("why?")
    trace_id = kf.get_last_active_trace_id()
    kf.log_feedback(trace_id, "helpful", True)
    frame = kf.search_traces()
    assert list(frame.columns) == MlflowTrace.pandas_dataframe_columns()
    row = frame.iloc[0]
    assert row["request"] == {"question": "why?"} and row["response"] == "answer"
    back = MlflowTrace.from_json(row["trace"])
    assert back.info.trace_id == trace_id and back.info.state == "OK"
    spans = {s.name: s for s in back.data.spans}
    assert spans["retrieve"].span_type == "RETRIEVER"
    assert spans["retrieve"].inputs == {"q": "why?"} and spans["retrieve"].outputs == ["doc"]
    assert spans["retrieve"].parent_id == spans["chain"].span_id
    assert [s["name"] for s in row["spans"]] == ["chain", "retrieve"]
    assert row["spans"][1]["attributes"]["mlflow.spanType"] == '"RETRIEVER"'
    assert [a["assessment_name"] for a in row["assessments"]] == ["helpful"]
