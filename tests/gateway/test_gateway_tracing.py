"""Every gateway call is a trace (route, provider, model, key name, tokens, cost, status),
an incoming traceparent is continued, and chat()/embed() work over HTTP and in-process."""

from __future__ import annotations

import json

import httpx
import pytest
from gateway_helpers import serve_in_thread


def _config(fake):
    from kernelflow_gateway.config import parse_config

    base = fake.url + "/v1"
    return parse_config({"model_list": [
        {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini",
                                                  "api_base": base, "api_key": "sk-x"}},
        {"model_name": "bad", "litellm_params": {"model": "openai/fail-500", "api_base": base,
                                                 "api_key": "sk-x"}},
        {"model_name": "embed", "litellm_params": {"model": "openai/e", "api_base": base,
                                                   "api_key": "sk-x"},
         "model_info": {"mode": "embedding"}}],
        "kernelflow": {"cache": {"ttl": 60}}})


@pytest.fixture
def running(fake, client):
    from kernelflow_gateway.router import Gateway

    running = serve_in_thread(Gateway(_config(fake), client=client))
    yield running
    running.stop()


def _post(running, body, headers=None):
    return httpx.post(running.url + "/v1/chat/completions", json=body, headers=headers or {},
                      timeout=30)


def _call(running, route):
    running.gateway.recorder.flush()
    return running.gateway.client.search_gateway_calls(route=route)[0]


def test_a_call_is_a_trace_with_its_facts(running, client):
    key = client.create_gateway_key("tracer")
    r = _post(running, {"model": "chat", "messages": [{"role": "user", "content": "hi there"}]},
              {"Authorization": f"Bearer {key.key}"})
    assert r.status_code == 200
    call = _call(running, "chat")
    trace = client.get_trace(call["trace_id"])
    span = trace.data.spans[0]
    assert span.name == "gateway/chat" and span.span_type == "CHAT_MODEL"
    assert span.attributes["gateway.route"] == "chat"
    assert span.attributes["gateway.key"] == "tracer"
    assert span.attributes["mlflow.llm.provider"] == "openai"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 5
    assert span.attributes["mlflow.llm.cost"]["total_cost"] > 0
    assert trace.info.status == "OK"
    assert key.key not in json.dumps(trace.to_dict(), default=str)


def test_a_failed_call_is_an_error_trace(running, client):
    r = _post(running, {"model": "bad", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 502
    trace = client.get_trace(_call(running, "bad")["trace_id"])
    assert trace.info.status == "ERROR"


def test_a_stream_is_traced_with_its_text(running, client):
    r = _post(running, {"model": "chat", "stream": True,
                        "messages": [{"role": "user", "content": "a b"}]})
    assert "[DONE]" in r.text
    call = _call(running, "chat")
    assert call["stream"] == 1 and call["ttfb_ms"] is not None
    span = client.get_trace(call["trace_id"]).data.spans[0]
    assert "echo: a b" in json.dumps(span.outputs)


def test_traceparent_continues_the_callers_trace(running, client):
    import kernelflow as kf

    with kf.start_span("notebook-step") as outer:
        headers = kf.tracing.context_headers()
        assert _post(running, {"model": "chat", "messages": [
            {"role": "user", "content": "inside"}]}, headers).status_code == 200
    assert _call(running, "chat")["trace_id"] == outer.trace_id


def test_the_cache_answers_repeats(running, fake):
    body = {"model": "chat", "messages": [{"role": "user", "content": "cache me"}]}
    before = fake.calls["gpt-4o-mini"]
    first, second = _post(running, body).json(), _post(running, body).json()
    assert first == second and fake.calls["gpt-4o-mini"] - before == 1
    assert _call(running, "chat")["cached"] == 1


def test_chat_and_embed_over_http(running, monkeypatch):
    from kernelflow_gateway import chat, embed

    monkeypatch.setenv("KERNELFLOW_GATEWAY_URL", running.url)
    assert chat("chat", "hello")["choices"][0]["message"]["content"] == "echo: hello"
    pieces = [c["choices"][0]["delta"].get("content", "") for c in
              chat("chat", "x y", stream=True) if c["choices"]]
    assert "".join(pieces) == "echo: x y"
    assert embed("embed", ["ab", "c"]) == [[2.0, 0.0, 0.5], [1.0, 1.0, 0.5]]
    from kernelflow.errors import KernelflowError

    with pytest.raises(KernelflowError, match="No route named 'nope'"):
        chat("nope", "x")


def test_chat_in_process_belongs_to_the_run(fake, client, tmp_path, monkeypatch):
    import kernelflow as kf
    from kernelflow_gateway import chat

    path = tmp_path / "gateway.yaml"
    path.write_text(f"model_list:\n  - model_name: chat\n    litellm_params: "
                    f"{{model: openai/gpt-4o-mini, api_base: '{fake.url}/v1', api_key: k}}\n")
    monkeypatch.delenv("KERNELFLOW_GATEWAY_URL", raising=False)
    monkeypatch.setenv("KERNELFLOW_GATEWAY_CONFIG", str(path))
    with kf.start_run() as run:
        with kf.start_span("ask") as span:
            reply = chat("chat", "in process")
    assert reply["choices"][0]["message"]["content"] == "echo: in process"
    trace = client.get_trace(span.trace_id)
    assert {s.name for s in trace.data.spans} == {"ask", "gateway/chat"}
    assert [t.trace_id for t in client.search_traces(run_id=run.info.run_id)] == [span.trace_id]
