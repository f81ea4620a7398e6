"""The recording API on a real SQLite file: decorator, spans, nesting, errors, context."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import kernelflow as kf
from kernelflow.tracing import SpanType


def _last():
    return kf.get_trace(kf.get_last_active_trace_id())


def _by_name(trace):
    return {s.name: s for s in trace.data.spans}


def test_nested_spans_form_one_trace_with_parents(tracking_uri):
    @kf.trace(span_type=SpanType.CHAIN)
    def chain(question):
        with kf.start_span("retrieve", span_type="RETRIEVER", attributes={"k": 2}) as span:
            span.set_inputs({"q": question})
            span.set_outputs(["doc1", "doc2"])
        return tool(question)

    @kf.trace(name="my-tool", span_type=SpanType.TOOL)
    def tool(q):
        return q.upper()

    assert chain("hi") == "HI"
    trace = _last()
    spans = _by_name(trace)
    assert set(spans) == {"chain", "retrieve", "my-tool"}
    root = spans["chain"]
    assert root.parent_id is None and root.span_type == "CHAIN"
    assert spans["retrieve"].parent_id == root.span_id
    assert spans["my-tool"].parent_id == root.span_id
    assert spans["retrieve"].inputs == {"q": "hi"} and spans["retrieve"].outputs == ["doc1", "doc2"]
    assert spans["retrieve"].attributes == {"k": 2}
    assert spans["my-tool"].inputs == {"q": "hi"} and spans["my-tool"].outputs == "HI"
    assert root.inputs == {"question": "hi"} and root.outputs == "HI"
    assert len({s.span_id for s in trace.data.spans}) == 3
    info = trace.info
    assert info.trace_id.startswith("tr-") and len(info.trace_id) == 35
    assert info.state == "OK" and info.name == "chain"
    assert info.request_preview == '{"question": "hi"}' and info.response_preview == '"HI"'
    assert info.tags["mlflow.traceName"] == "chain"
    assert root.start_time_ns <= spans["retrieve"].start_time_ns <= spans["retrieve"].end_time_ns
    assert spans["my-tool"].end_time_ns <= root.end_time_ns


def test_exception_marks_error_with_event_and_is_reraised_unchanged(tracking_uri):
    class Boom(RuntimeError):
        pass

    err = Boom("bad thing")

    @kf.trace
    def outer():
        with kf.start_span("inner"):
            raise err

    with pytest.raises(Boom) as caught:
        outer()
    assert caught.value is err
    trace = _last()
    assert trace.info.state == "ERROR"
    for span in trace.data.spans:
        assert span.status == "ERROR"
        event = span.events[0]
        assert event["name"] == "exception"
        assert event["attributes"]["exception.type"] == "Boom"
        assert event["attributes"]["exception.message"] == "bad thing"
        assert "raise err" in event["attributes"]["exception.stacktrace"]
    assert kf.get_current_active_span() is None


def test_span_methods_attributes_events_status(tracking_uri):
    with kf.start_span("s", span_type=SpanType.LLM) as span:
        assert kf.get_current_active_span() is span
        span.set_attributes({"a": 1, "b": "x"})
        span.set_attribute("c", [1, 2])
        span.add_event("retry", {"attempt": 2})
        span.set_status("ERROR", "upstream 500")
    assert kf.get_current_active_span() is None
    got = kf.get_trace(span.trace_id).data.spans[0]
    assert got.attributes == {"a": 1, "b": "x", "c": [1, 2]}
    assert got.events[0]["name"] == "retry" and got.events[0]["attributes"] == {"attempt": 2}
    assert got.status == "ERROR" and got.status_message == "upstream 500"
    assert got.span_type == "LLM"
    with pytest.raises(kf.InvalidParameterError):
        span.set_status("MAYBE")


def test_async_spans_nest_across_awaits_and_tasks(tracking_uri):
    @kf.trace
    async def leaf(i):
        await asyncio.sleep(0.001)
        return i * 2

    @kf.trace
    async def root():
        return sum(await asyncio.gather(leaf(1), leaf(2), leaf(3)))

    assert asyncio.run(root()) == 12
    trace = _last()
    spans = trace.data.spans
    root_span = next(s for s in spans if s.name == "root")
    leaves = [s for s in spans if s.name == "leaf"]
    assert len(leaves) == 3 and all(s.parent_id == root_span.span_id for s in leaves)
    assert sorted(s.outputs for s in leaves) == [2, 4, 6]


def test_generator_span_closes_when_exhausted_and_collects_items(tracking_uri):
    @kf.trace
    def count(n):
        for i in range(n):
            with kf.start_span(f"step-{i}"):
                pass
            yield i

    assert list(count(3)) == [0, 1, 2]
    trace = _last()
    spans = _by_name(trace)
    assert spans["count"].outputs == [0, 1, 2] and spans["count"].status == "OK"
    assert spans["step-1"].parent_id == spans["count"].span_id


def test_generator_closed_early_ends_span(tracking_uri):
    closed = []

    @kf.trace
    def forever():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    gen = forever()
    assert next(gen) == 0 and next(gen) == 1
    gen.close()
    assert closed == [True]
    span = _last().data.spans[0]
    assert span.outputs == [0, 1] and span.status == "OK" and span.end_time_ns is not None


def test_generator_error_is_recorded(tracking_uri):
    @kf.trace
    def broken():
        yield 1
        raise ValueError("mid-stream")

    with pytest.raises(ValueError, match="mid-stream"):
        list(broken())
    span = _last().data.spans[0]
    assert span.status == "ERROR" and span.outputs == [1]


def test_async_generator(tracking_uri):
    @kf.trace(output_reducer="".join)
    async def stream(text):
        for ch in text:
            await asyncio.sleep(0)
            yield ch

    async def consume():
        return [c async for c in stream("abc")]

    assert asyncio.run(consume()) == ["a", "b", "c"]
    span = _last().data.spans[0]
    assert span.outputs == "abc" and span.inputs == {"text": "abc"}


def test_update_current_trace_takes_mlflow_arguments(tracking_uri, caplog):
    kf.update_current_trace(tags={"x": "1"})  # outside a span: a warning, as in MLflow
    assert "No active trace" in caplog.text
    with pytest.raises(kf.InvalidParameterError, match="State must be either"):
        with kf.start_span("bad"):
            kf.update_current_trace(state="DONE")
    with kf.start_span("chat", span_type="CHAT_MODEL") as span:
        span.set_inputs({"messages": ["long"]})
        kf.update_current_trace(tags={"flag": True}, session_id="s-1", user="ann",
                                request_preview="hi", response_preview="bye", state="ERROR",
                                model_id="m-1")
    info = kf.get_trace(span.trace_id).info
    assert info.tags["flag"] == "True"  # stringified as MLflow does
    assert info.trace_metadata["mlflow.trace.session"] == "s-1"
    assert info.trace_metadata["mlflow.trace.user"] == "ann"
    assert info.trace_metadata["mlflow.modelId"] == "m-1"
    assert (info.request_preview, info.response_preview, info.state) == ("hi", "bye", "ERROR")
    assert kf.get_trace("tr-" + "0" * 32) is None  # mlflow.get_trace's answer; Client raises
    with pytest.raises(kf.ResourceNotFoundError):
        kf.Client().get_trace("tr-" + "0" * 32)


def test_update_current_trace_and_previews(tracking_uri):

    @kf.trace
    def f():
        kf.update_current_trace(tags={"env": "prod"}, metadata={"user": "ann"})

    f()
    info = _last().info
    assert info.tags["env"] == "prod" and info.trace_metadata["user"] == "ann"


def test_unserialisable_inputs_are_stored_as_repr_and_big_fields_truncated(tracking_uri):
    class Thing:
        def __repr__(self):
            return "<Thing 7>"

    @kf.trace
    def f(thing, text):
        return {"t": thing}

    kf.tracing.set_max_field_size(200)
    try:
        f(Thing(), "x" * 1000)
    finally:
        kf.tracing.set_max_field_size(64 * 1024)
    span = _last().data.spans[0]
    assert span.outputs == {"t": "<Thing 7>"}
    assert isinstance(span.inputs, str) and "truncated by kernelflow" in span.inputs
    assert len(span.inputs) < 300


def test_methods_leave_self_out_and_defaults_in(tracking_uri):
    class Agent:
        @kf.trace
        def run(self, q, temperature=0.5, **extra):
            return q

    Agent().run("hi", top_k=3)
    span = _last().data.spans[0]
    assert span.inputs == {"q": "hi", "temperature": 0.5, "extra": {"top_k": 3}}


def test_trace_belongs_to_the_active_run_and_experiment(tracking_uri):
    kf.set_experiment("traced")
    with kf.start_run() as run:
        with kf.start_span("in-run"):
            pass
    trace = _last()
    assert trace.info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    assert trace.info.run_id == run.info.run_id
    assert trace.info.experiment_id == run.info.experiment_id
    client = kf.Client()
    assert [t.trace_id for t in client.search_traces(run_id=run.info.run_id)] == [trace.info.trace_id]
    frame = kf.search_traces(run_id=run.info.run_id)
    assert list(frame["trace_id"]) == [trace.info.trace_id]


def test_threads_get_their_own_traces(tracking_uri):
    ids = []

    def work(i):
        with kf.start_span(f"t{i}") as span:
            ids.append(span.trace_id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 4
    assert kf.Client().count_traces() == 4


def test_token_usage_and_cost_add_up_over_spans(tracking_uri):
    with kf.start_span("agent"):
        for _ in range(2):
            with kf.start_span("llm", span_type="CHAT_MODEL") as s:
                s.set_attribute("mlflow.chat.tokenUsage",
                                {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})
                s.set_attribute("mlflow.llm.cost", {"input_cost": 0.1, "output_cost": 0.2,
                                                    "total_cost": 0.3})
    info = _last().info
    assert info.token_usage == {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}
    assert info.cost["total_cost"] == pytest.approx(0.6)


def test_context_headers_and_continue_trace_join_one_trace(tracking_uri):
    assert kf.tracing.context_headers() == {}
    with kf.start_span("client") as client_span:
        headers = kf.tracing.context_headers()
        assert headers["traceparent"] == f"00-{client_span.trace_id[3:]}-{client_span.span_id}-01"
        # A "server" handling the request in another thread, as a real server would.
        def serve():
            with kf.tracing.continue_trace({"TraceParent": headers["traceparent"]}):
                with kf.start_span("server", span_type="CHAIN") as s:
                    s.set_attribute("mlflow.chat.tokenUsage",
                                    {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})

        t = threading.Thread(target=serve)
        t.start()
        t.join()
    trace = kf.get_trace(client_span.trace_id)
    spans = _by_name(trace)
    assert spans["server"].parent_id == spans["client"].span_id
    assert trace.info.name == "client" and trace.info.state == "OK"
    assert trace.info.token_usage["total_tokens"] == 2
    with kf.tracing.continue_trace({"traceparent": "garbage"}) as parent:
        assert parent is None
        with kf.start_span("fresh") as s:
            assert s.parent_id is None


def test_a_failing_store_never_breaks_the_traced_function(tracking_uri, monkeypatch):
    from kernelflow.client import get_store

    client = kf.Client()
    store = get_store(client.tracking_uri)

    def broken(items):
        raise TypeError("cannot store this")

    monkeypatch.setattr(store, "write_traces", broken)

    @kf.trace
    def f():
        return 5

    assert f() == 5
    with pytest.raises(kf.LoggingError, match="could not be stored"):
        client.flush()


def test_search_traces_frame_and_list(tracking_uri):
    for i in range(3):
        with kf.start_span(f"s{i}") as s:
            s.set_inputs({"i": i})
            s.set_outputs(i * 10)
    frame = kf.search_traces()
    assert list(frame.columns[:6]) == ["trace_id", "trace", "client_request_id", "state",
                                       "request_time", "execution_duration"]
    assert list(frame["request"]) == [{"i": 2}, {"i": 1}, {"i": 0}]
    assert list(frame["response"]) == [20, 10, 0]
    listed = kf.search_traces(return_type="list", max_results=2)
    assert [t.info.name for t in listed] == ["s2", "s1"]
    assert json.loads(listed[0].data.request) == {"i": 2}


def test_a_span_ending_after_its_root_is_still_recorded(tracking_uri):
    # e.g. a stream returned by a traced function and read after it returned
    @kf.trace
    def make_stream():
        span = kf.start_span("stream", span_type="CHAT_MODEL")
        return span

    stream_span = make_stream()
    stream_span.set_attribute("mlflow.chat.tokenUsage",
                              {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5})
    stream_span.end(outputs="all the chunks")
    trace = kf.get_trace(stream_span.trace_id)
    spans = _by_name(trace)
    assert spans["stream"].parent_id == spans["make_stream"].span_id
    assert spans["stream"].outputs == "all the chunks"
    assert trace.info.state == "OK" and trace.info.name == "make_stream"
    assert trace.info.token_usage["total_tokens"] == 5


def test_set_destination_sends_traces_to_another_experiment_and_file(tracking_uri, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    exp = kf.Client(other).create_experiment("served")
    kf.tracing.set_destination(experiment_id=exp, tracking_uri=other)
    try:
        @kf.trace()
        def handle(x):
            kf.update_current_trace(client_request_id="req-7")
            return x

        handle(1)
    finally:
        kf.tracing.set_destination()
    trace_id = kf.get_last_active_trace_id()
    elsewhere = kf.Client(other)
    info = elsewhere.get_trace(trace_id).info
    assert info.experiment_id == exp and info.client_request_id == "req-7"
    assert [i.trace_id for i in elsewhere.search_traces(
        filter_string="trace.client_request_id = 'req-7'")] == [trace_id]
    assert kf.Client().count_traces() == 0  # nothing in the default file


def test_a_huge_attribute_or_event_is_cut_alone_and_the_trace_stays_readable(tracking_uri):
    with kf.start_span("s") as span:
        span.set_attribute("doc", "x" * 70_000)
        span.set_attribute("small", 1)
        span.add_event("e", {"big": "y" * 70_000, "n": 2})
    trace = kf.get_trace(span.trace_id)
    stored = trace.data.spans[0]
    assert stored.attributes["small"] == 1
    assert stored.attributes["doc"].endswith("[truncated by kernelflow: 70002 bytes in all]")
    assert stored.events[0]["attributes"]["n"] == 2
    assert "truncated by kernelflow" in stored.events[0]["attributes"]["big"]
    from kernelflow.tracing import codec
    from kernelflow.tracing.display import trace_html

    assert "kf-span-name\">s</span>" in trace_html([trace])  # the under-cell view renders

    assert codec.trace_to_json(trace)["trace_info"]["trace_id"] == span.trace_id


def test_the_size_limit_counts_utf8_bytes():
    from kernelflow.tracing.serialize import to_json

    kf.tracing.set_max_field_size(1000)
    try:
        text = to_json("中" * 1000)  # 3,002 bytes of JSON
    finally:
        kf.tracing.set_max_field_size(64 * 1024)
    kept = text.split("...[truncated")[0]
    assert len(kept.encode()) <= 1000 and kept.startswith('"中中')
    assert text.endswith("[truncated by kernelflow: 3002 bytes in all]")


def test_a_value_whose_repr_raises_neither_breaks_the_code_nor_jams_logging(tracking_uri):
    class Hostile:
        def __repr__(self):
            raise RuntimeError("no repr")

    @kf.trace
    def f(x):
        return x

    assert isinstance(f(Hostile()), Hostile)
    with kf.start_span("x") as span:
        span.set_attribute("m", Hostile())
    kf.flush()  # nothing raised, nothing queued forever
    stored = kf.get_trace(span.trace_id).data.spans[0]
    assert stored.attributes["m"] == "<Hostile object: repr() raised RuntimeError>"
    with kf.start_run() as run:
        kf.log_metric("a", 1.0)
    kf.flush()
    assert kf.get_run(run.info.run_id).data.metrics == {"a": 1.0}


def test_an_exception_thrown_into_a_traced_async_generator_reaches_it(tracking_uri):
    @kf.trace
    async def numbers():
        for i in range(3):
            try:
                yield i
            except ValueError:
                yield "recovered"

    async def consume():
        agen = numbers()
        got = [await agen.__anext__()]
        got.append(await agen.athrow(ValueError("x")))
        got += [x async for x in agen]
        return got

    assert asyncio.run(consume()) == [0, "recovered", 1, 2]
    span = _last().data.spans[0]
    assert span.status == "OK" and span.outputs == [0, "recovered", 1, 2]

    @kf.trace
    async def stops_on_error():
        try:
            yield 1
        except KeyError:
            return

    async def throw_and_stop():
        agen = stops_on_error()
        await agen.__anext__()
        with pytest.raises(StopAsyncIteration):
            await agen.athrow(KeyError("k"))

    asyncio.run(throw_and_stop())
    span = _last().data.spans[0]
    assert span.status == "OK" and span.outputs == [1]
