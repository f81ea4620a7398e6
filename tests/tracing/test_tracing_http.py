"""Traces over HTTP: kernelflow's SDK on an http:// URI, and OpenTelemetry's SDK via OTLP."""

from __future__ import annotations

import time

import pytest
import requests
from tracing_server import start, stop

import kernelflow as kf


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start(tmp_path_factory.mktemp("http-traces"))
    yield srv
    stop(srv)


@pytest.fixture
def remote(server, tracking_uri):
    """kernelflow's fluent API pointed at the server (http://)."""
    kf.set_tracking_uri(server.url)
    yield kf.Client(server.url)
    kf.set_tracking_uri(tracking_uri)


def test_kernelflow_sdk_over_http_records_and_reads_traces(server, remote):
    @kf.trace(span_type="CHAIN")
    def chain(x):
        with kf.start_span("step", span_type="TOOL") as s:
            s.set_attribute("mlflow.chat.tokenUsage",
                            {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3})
        return x + 1

    assert chain(1) == 2
    trace_id = kf.get_last_active_trace_id()
    trace = remote.get_trace(trace_id)  # flushes the writer: a batched POST first
    assert {s.name for s in trace.data.spans} == {"chain", "step"}
    assert trace.info.token_usage["total_tokens"] == 3
    page = remote.search_traces(filter_string="trace.name = 'chain'")
    assert [i.trace_id for i in page] == [trace_id]
    assert remote.count_traces() >= 1
    remote.set_trace_tag(trace_id, "k", "v")
    assert remote.get_trace(trace_id).info.tags["k"] == "v"
    remote.delete_trace_tag(trace_id, "k")
    a = remote.log_feedback(trace_id, "helpful", 0.5, rationale="ok")
    assert [x.value for x in remote.get_assessments(trace_id)] == [0.5]
    remote.delete_assessment(trace_id, a.assessment_id)
    assert remote.get_assessments(trace_id) == []
    # The server's own file has it too.
    assert kf.Client(server.db_uri).get_trace(trace_id).info.name == "chain"
    assert remote.delete_traces("0", trace_ids=[trace_id]) == 1


def test_server_continues_a_trace_from_traceparent(server, remote):
    # A span in this process; a server-side segment recorded under the same trace over HTTP.
    with kf.start_span("caller") as caller:
        headers = kf.tracing.context_headers()
    with kf.tracing.continue_trace(headers):
        with kf.start_span("callee"):
            pass
    trace = remote.get_trace(caller.trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert spans["callee"].parent_id == spans["caller"].span_id
    assert trace.info.name == "caller"


def _otel_provider(endpoint: str):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "otel-test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def test_opentelemetry_sdk_exports_protobuf_spans_we_store(server):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.trace import Status, StatusCode

    provider = _otel_provider(server.url + "/v1/traces?experiment_id=0")
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("otel-root") as root:
        root.set_attribute("app.user", "ann")
        with tracer.start_as_current_span("otel-llm") as child:
            child.set_attribute("gen_ai.operation.name", "chat")
            child.set_attribute("gen_ai.usage.input_tokens", 11)
            child.set_attribute("gen_ai.usage.output_tokens", 4)
            child.add_event("retry", {"attempt": 2})
            child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    trace_id = f"tr-{root.get_span_context().trace_id:032x}"
    client = kf.Client(server.db_uri)
    trace = client.get_trace(trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert spans["otel-llm"].parent_id == spans["otel-root"].span_id
    assert spans["otel-llm"].span_type == "CHAT_MODEL" and spans["otel-llm"].status == "ERROR"
    assert spans["otel-llm"].events[0]["attributes"] == {"attempt": 2}
    assert spans["otel-root"].attributes["app.user"] == "ann"
    assert trace.info.name == "otel-root" and trace.info.state == "OK"
    assert trace.info.token_usage["total_tokens"] == 15


def test_otlp_json_and_bad_bodies(server):
    trace_hex, span_hex = "ab" * 16, "cd" * 8
    now = time.time_ns()
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_hex, "spanId": span_hex, "name": "json-span",
        "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 5_000_000),
        "attributes": [{"key": "mlflow.spanInputs", "value": {"stringValue": '{"q": 1}'}}],
        "status": {"code": 1}}]}]}]}
    resp = requests.post(server.url + "/v1/traces", json=body,
                         headers={"x-mlflow-experiment-id": "0"}, timeout=30)
    assert resp.status_code == 200, resp.text
    trace = kf.Client(server.db_uri).get_trace(f"tr-{trace_hex}")
    assert trace.data.spans[0].inputs == {"q": 1} and trace.info.execution_duration == 5
    bad = requests.post(server.url + "/v1/traces", data=b"\xff\x00garbage",
                        headers={"Content-Type": "application/x-protobuf"}, timeout=30)
    assert bad.status_code == 400 and "OTLP" in bad.json()["message"]


def test_kernelflow_also_exports_to_an_otlp_endpoint(server, tracking_uri, monkeypatch):
    from kernelflow.tracing import export

    monkeypatch.setattr(export, "_otlp", [server.url + "/v1/traces"])
    with pytest.raises(ValueError), kf.start_span("to-both") as span:
        span.add_event("checkpoint", {"step": 3})
        raise ValueError("boom")
    kf.flush()
    export.flush_otlp()
    assert kf.get_trace(span.trace_id).info.name == "to-both"  # the local file
    got = kf.Client(server.db_uri).get_trace(span.trace_id)  # and the OTLP collector
    assert got.data.spans[0].name == "to-both"
    events = got.data.spans[0].events  # events travel too (the exception's included)
    assert [e["name"] for e in events] == ["checkpoint", "exception"]
    assert events[0]["attributes"] == {"step": 3}
    assert events[1]["attributes"]["exception.message"] == "boom"


def test_the_rest_server_continues_a_trace_from_traceparent(server, tracking_uri):
    with kf.start_span("client-call") as span:
        resp = requests.post(server.url + "/api/2.0/mlflow/experiments/search",
                             json={"max_results": 5}, headers=kf.tracing.context_headers(),
                             timeout=30)
    assert resp.status_code == 200
    remote = kf.Client(server.db_uri)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the server's writer commits in the background
        found = remote.search_traces(filter_string=f"trace.trace_id = '{span.trace_id}'")
        if found:
            break
        time.sleep(0.1)
    [server_span] = remote.get_trace(span.trace_id).data.spans
    assert server_span.name == "POST experiments/search"
    assert server_span.parent_id == span.span_id
    plain = requests.post(server.url + "/api/2.0/mlflow/experiments/search", json={}, timeout=30)
    assert plain.status_code == 200


def test_bad_trace_records_are_refused_with_a_reason(server):
    url = server.url + "/api/2.0/kernelflow/traces/batch"
    good = {"trace_id": "tr-" + "1" * 32, "experiment_id": "0", "request_time": 1, "spans": [
        {"span_id": "2" * 16, "name": "s", "start_time_ns": 5}]}
    bad_span = {**good, "spans": [{"span_id": "zz", "name": "s", "start_time_ns": 5}]}
    resp = requests.post(url, json={"records": [bad_span]}, timeout=30)
    assert resp.status_code == 400 and "span_id must be 16 hex" in resp.json()["message"]
    resp = requests.post(url, json={"records": [{**good, "trace_id": "nope"}]}, timeout=30)
    assert resp.status_code == 400 and "32 lowercase hex" in resp.json()["message"]
    resp = requests.post(url, json={"records": [{**good, "experiment_id": "4242"}]}, timeout=30)
    assert resp.status_code == 404
    otlp = requests.post(server.url + "/v1/traces", json={"resourceSpans": [{"scopeSpans": [
        {"spans": [{"traceId": "ef" * 16, "spanId": "01" * 8, "name": "x",
                    "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]},
        headers={"x-mlflow-experiment-id": "4242"}, timeout=30)
    assert otlp.status_code == 404 and "4242" in otlp.json()["message"]
    assert requests.post(url, json={"records": [good]}, timeout=30).status_code == 200


@pytest.mark.parametrize("body", [
    b"[1, 2]", b'{"resourceSpans": 5}', b'{"resourceSpans": [{"scopeSpans": [{"spans": [7]}]}]}',
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01"}]}]}]}',
    b"not json"])
def test_malformed_otlp_json_is_a_400(server, body):
    resp = requests.post(server.url + "/v1/traces", data=body,
                         headers={"Content-Type": "application/json"}, timeout=30)
    assert resp.status_code == 400, resp.text
    assert "OTLP" in resp.json()["message"]


@pytest.mark.parametrize(("path", "body"), [
    ("api/3.0/mlflow/traces", {"trace": {"trace_info": {"trace_id": "tr-" + "a" * 32,
                                                        "request_time": 5, "tags": [1]}}}),
    ("api/3.0/mlflow/traces", {"trace": "x"}),
    ("api/3.0/mlflow/traces/search", {"locations": ["0", 5], "max_results": 5}),
    ("api/3.0/mlflow/traces/tr-" + "a" * 32 + "/assessments", {"assessment": {"source": 5}}),
])
def test_mlflow_trace_endpoints_answer_bad_fields_in_words(server, path, body):
    resp = requests.post(f"{server.url}/{path}", json=body, timeout=30)
    assert resp.status_code in (200, 400, 404), resp.text
    assert resp.status_code != 500


def test_get_traces_over_http_in_one_request_per_hundred(server, remote):
    ids = []
    for i in range(3):
        with kf.start_span(f"batch-{i}"):
            with kf.start_span("inner"):
                pass
        ids.append(kf.get_last_active_trace_id())
    remote.log_feedback(ids[1], "ok", True)
    got = remote.get_traces([ids[2], "tr-" + "0" * 32, ids[0], ids[1]])
    assert [t.info.trace_id for t in got] == [ids[2], ids[0], ids[1]]
    assert [sorted(s.name for s in t.data.spans) for t in got] == [["batch-2", "inner"],
                                                                   ["batch-0", "inner"],
                                                                   ["batch-1", "inner"]]
    assert [a.name for a in got[2].info.assessments] == ["ok"]
    frame = kf.search_traces(filter_string="trace.name = 'batch-1'")
    assert [len(spans) for spans in frame["spans"]] == [2]
    remote.delete_traces("0", trace_ids=ids)
