"""litellm and OpenAI SDK autolog against a real HTTP server on 127.0.0.1 (streaming too)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tracing_fake_llm import FakeLLM  # noqa: E402

import kernelflow as kf  # noqa: E402

litellm = pytest.importorskip("litellm")
openai = pytest.importorskip("openai")

MESSAGES = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def fake():
    with FakeLLM() as server:
        yield server


@pytest.fixture
def autologged(tracking_uri):
    kf.litellm.autolog()
    kf.openai.autolog()
    yield
    kf.litellm.autolog(disable=True)
    kf.openai.autolog(disable=True)


def _spans(trace_id=None):
    return kf.get_trace(trace_id or kf.get_last_active_trace_id()).data.spans


def test_litellm_completion_is_a_chat_span_with_usage_and_cost(fake, autologged):
    with kf.start_run() as run:
        response = litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES,
                                      api_base=fake.base_url, api_key="sk-secret")
    assert response.choices[0].message.content == "echo: hello there"
    trace = kf.get_trace(kf.get_last_active_trace_id())
    [span] = trace.data.spans
    assert span.name == "litellm.completion" and span.span_type == "CHAT_MODEL"
    assert span.inputs["messages"] == MESSAGES and "api_key" not in span.inputs
    assert span.outputs["choices"][0]["message"]["content"] == "echo: hello there"
    assert span.attributes["mlflow.llm.model"] == "openai/gpt-4o-mini"
    assert span.attributes["mlflow.llm.provider"] == "openai"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert span.attributes["mlflow.llm.cost"]["total_cost"] > 0
    assert span.attributes["latency_ms"] > 0
    assert trace.info.token_usage["total_tokens"] == 10
    assert trace.info.run_id == run.info.run_id
    assert "sk-secret" not in str(span.to_dict())


def test_litellm_calls_nest_under_a_traced_function(fake, autologged):
    @kf.trace(span_type="CHAIN")
    def chain(q):
        a = litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": q}],
                               api_base=fake.base_url, api_key="x")
        litellm.embedding(model="openai/text-embedding-3-small", input=["a", "b"],
                          api_base=fake.base_url, api_key="x")
        return a.choices[0].message.content

    assert chain("hi") == "echo: hi"
    spans = {s.name: s for s in _spans()}
    assert spans["litellm.completion"].parent_id == spans["chain"].span_id
    emb = spans["litellm.embedding"]
    assert emb.span_type == "EMBEDDING" and emb.parent_id == spans["chain"].span_id
    assert emb.attributes["mlflow.chat.tokenUsage"]["input_tokens"] == 8


def test_litellm_streaming_ends_span_with_assembled_text(fake, autologged):
    stream = litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True,
                                api_base=fake.base_url, api_key="x")
    pieces = [c.choices[0].delta.content or "" for c in stream]
    assert "".join(pieces) == "echo: hello there"
    [span] = _spans()
    assert span.outputs == {"role": "assistant", "content": "echo: hello there"}
    assert span.status == "OK" and span.attributes["stream"] is True
    # No stream_options.include_usage: the usage is counted as litellm (and MLflow) count it.
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 9, "output_tokens": 4, "total_tokens": 13}


def test_litellm_positional_arguments_are_recorded_by_name(fake, autologged):
    litellm.completion("openai/gpt-4o-mini", MESSAGES, api_base=fake.base_url, api_key="x")
    [span] = _spans()
    assert span.inputs["messages"] == MESSAGES and span.inputs["model"] == "openai/gpt-4o-mini"
    assert "api_key" not in span.inputs
    assert span.attributes["mlflow.llm.model"] == "openai/gpt-4o-mini"
    assert span.attributes["mlflow.llm.provider"] == "openai"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] > 0
    assert span.attributes["mlflow.llm.cost"]["total_cost"] > 0


def test_litellm_async_and_async_streaming(fake, autologged):
    async def main():
        r = await litellm.acompletion(model="openai/gpt-4o-mini", messages=MESSAGES,
                                      api_base=fake.base_url, api_key="x")
        first = kf.get_last_active_trace_id()
        stream = await litellm.acompletion(model="openai/gpt-4o-mini", messages=MESSAGES,
                                           stream=True, api_base=fake.base_url, api_key="x")
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        return r, first, text

    r, first, text = asyncio.run(main())
    assert r.choices[0].message.content == "echo: hello there" and text == "echo: hello there"
    [span] = _spans(first)
    assert span.name == "litellm.acompletion" and span.attributes["mlflow.chat.tokenUsage"]
    [streamed] = _spans()
    assert streamed.outputs["content"] == "echo: hello there"


def test_litellm_error_is_recorded_and_reraised(fake, autologged):
    with pytest.raises(Exception) as caught:
        litellm.completion(model="openai/fail-500", messages=MESSAGES, api_base=fake.base_url,
                           api_key="x", num_retries=0, max_retries=0)
    assert "exploded" in str(caught.value)
    [span] = _spans()
    assert span.status == "ERROR" and span.events[0]["name"] == "exception"
    assert kf.get_trace(kf.get_last_active_trace_id()).info.state == "ERROR"


def test_openai_sdk_chat_embeddings_and_stream(fake, autologged):
    client = openai.OpenAI(base_url=fake.base_url, api_key="sk-secret", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.content == "echo: hello there"
    [span] = _spans()
    assert span.name == "openai.chat.completions.create" and span.span_type == "CHAT_MODEL"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 10
    assert span.attributes["mlflow.llm.provider"] == "openai"

    client.embeddings.create(model="text-embedding-3-small", input="abc")
    [emb] = _spans()
    assert emb.span_type == "EMBEDDING" and emb.outputs["data"][0]["embedding"] == [0.1, 0.2, 0.3]

    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                            stream_options={"include_usage": True})
    with stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "echo: hello there"
    [streamed] = _spans()
    assert streamed.outputs["content"] == "echo: hello there"
    assert streamed.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 10


def test_openai_async_client(fake, autologged):
    async def main():
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        with kf.start_span("agent"):
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            stream = await client.chat.completions.create(model="gpt-4o-mini",
                                                          messages=MESSAGES, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(main()) == "echo: hello there"
    spans = _spans()
    assert [s.name for s in spans] == ["agent", "openai.chat.completions.create",
                                       "openai.chat.completions.create"]
    assert all(s.parent_id == spans[0].span_id for s in spans[1:])
    assert spans[2].end_time_ns is not None and spans[2].outputs["content"]


def test_litellm_over_openai_is_one_span_and_disable_restores(fake, autologged):
    litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=fake.base_url,
                       api_key="x")
    assert [s.name for s in _spans()] == ["litellm.completion"]
    kf.litellm.autolog(disable=True)
    kf.openai.autolog(disable=True)
    before = kf.get_last_active_trace_id()
    litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=fake.base_url,
                       api_key="x")
    assert kf.get_last_active_trace_id() == before
    assert not getattr(litellm.completion, "_kernelflow_autolog", False)


def _wait_for_trace(name, n_spans, timeout=30.0):
    """litellm runs its success callbacks on its own logging thread, after the call returns:
    wait (bounded) until the trace holds its spans."""
    deadline = time.monotonic() + timeout
    while True:
        kf.flush()
        found = kf.search_traces(filter_string=f"trace.name = '{name}'", return_type="list")
        if found and len(found[0].data.spans) >= n_spans:
            return found[0]
        assert time.monotonic() < deadline, f"no trace {name!r} with {n_spans} spans"
        time.sleep(0.05)


def test_a_completion_imported_before_autolog_is_traced_through_callbacks(fake, tracking_uri):
    original = litellm.completion
    assert not getattr(original, "_kernelflow_autolog", False)
    kf.litellm.autolog()
    kf.openai.autolog()
    try:
        with kf.start_span("outer"):
            text = original(model="openai/gpt-4o-mini", messages=MESSAGES,
                            api_base=fake.base_url, api_key="x").choices[0].message.content
        assert text == "echo: hello there"
        trace = _wait_for_trace("outer", 2)
        spans = {s.name: s for s in trace.data.spans}
        assert set(spans) == {"outer", "litellm.completion"}  # no second span from the SDK
        llm = spans["litellm.completion"]
        assert llm.parent_id == spans["outer"].span_id and llm.span_type == "CHAT_MODEL"
        assert llm.inputs["messages"] == MESSAGES
        assert llm.attributes["mlflow.llm.model"] == "openai/gpt-4o-mini"
        assert llm.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 10
        assert llm.outputs["choices"][0]["message"]["content"] == "echo: hello there"

        stream = original(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True,
                          api_base=fake.base_url, api_key="x")
        assert "".join(c.choices[0].delta.content or "" for c in stream) == "echo: hello there"
        [streamed] = _wait_for_trace("litellm.completion", 1).data.spans
        assert streamed.outputs == {"role": "assistant", "content": "echo: hello there"}
        assert streamed.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 13
    finally:
        kf.litellm.autolog(disable=True)
        kf.openai.autolog(disable=True)
    from kernelflow.autolog import litellm as kf_litellm

    for name in kf_litellm._CALLBACK_LISTS:  # litellm copies callbacks into its own lists
        assert not any(isinstance(c, kf_litellm._Unwrapped)
                       for c in getattr(litellm, name, None) or ()), name
    kf.litellm.autolog()  # on again: still one span per call (one handler per process)
    try:
        original(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=fake.base_url,
                 api_key="x")
        with kf.start_span("again"):
            original(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=fake.base_url,
                     api_key="x")
        assert len(_wait_for_trace("again", 2).data.spans) == 2
        kf.openai.autolog()
        import openai

        original(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=fake.base_url,
                 api_key="x")
        with kf.start_span("direct-sdk"):  # right after: the user's own SDK call is a span
            openai.OpenAI(base_url=fake.base_url, api_key="x").chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES)
        assert [s.name for s in _wait_for_trace("direct-sdk", 2).data.spans] == [
            "direct-sdk", "openai.chat.completions.create"]
    finally:
        kf.litellm.autolog(disable=True)
        kf.openai.autolog(disable=True)
