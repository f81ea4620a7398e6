"""The gateway over a real port, driven by the official openai SDK and mlflow.deployments,
against a fake OpenAI-compatible provider and an Anthropic-style one on 127.0.0.1."""

from __future__ import annotations

import json

import httpx
import pytest
from gateway_helpers import SECRET, free_port, serve_in_thread

openai = pytest.importorskip("openai")


def _config(fake) -> dict:
    base = fake.url + "/v1"
    key = "os.environ/KF_TEST_PROVIDER_KEY"

    def entry(name, model, **extra):
        return {"model_name": name, "litellm_params": {"model": model, "api_base": base,
                                                       "api_key": key, **extra}}

    return {
        "model_list": [
            entry("chat", "openai/gpt-4o-mini"),
            entry("bad", "openai/fail-500"),
            entry("limited", "openai/fail-429"),
            entry("slow", "openai/slow", timeout=0.5),
            entry("broken-json", "openai/malformed"),
            entry("half", "openai/half-stream"),
            entry("flaky", "openai/flaky"),
            entry("small", "openai/context-overflow"),
            entry("strict", "openai/content-policy"),
            {"model_name": "refused", "litellm_params": {
                "model": "openai/x", "api_key": key,
                "api_base": f"http://127.0.0.1:{free_port()}/v1"}},
            {"model_name": "embed", "litellm_params": {"model": "openai/emb", "api_base": base,
                                                       "api_key": key},
             "model_info": {"mode": "embedding"}},
            {"model_name": "complete", "litellm_params": {"model": "openai/gpt-3.5-turbo-instruct",
                                                          "api_base": base, "api_key": key},
             "model_info": {"mode": "completion"}},
            {"model_name": "claude", "litellm_params": {
                "model": "anthropic/claude-3-haiku-20240307", "api_base": fake.url,
                "api_key": key}},
        ],
        "router_settings": {
            "fallbacks": [{"bad": ["chat"]}],
            "context_window_fallbacks": [{"small": ["chat"]}],
            "content_policy_fallbacks": [{"strict": ["chat"]}],
            "retry_policy": {"InternalServerErrorRetries": 0},
        },
    }


@pytest.fixture(scope="module")
def running(fake, module_client, secret_env):
    from kernelflow_gateway.config import parse_config
    from kernelflow_gateway.router import Gateway

    gateway = Gateway(parse_config(_config(fake)), client=module_client)
    running = serve_in_thread(gateway, module_client)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sdk(running):
    return openai.OpenAI(base_url=running.url + "/v1", api_key="unused", max_retries=0,
                         timeout=30)


def _calls(running, route):
    running.gateway.recorder.flush()
    return running.client.search_gateway_calls(route=route)


def test_chat_through_the_openai_sdk(sdk, running):
    reply = sdk.chat.completions.create(model="chat",
                                        messages=[{"role": "user", "content": "hello there"}])
    assert reply.choices[0].message.content == "echo: hello there"
    assert reply.usage.prompt_tokens == 2 and reply.usage.completion_tokens == 3
    call = _calls(running, "chat")[0]
    assert call["status"] == 200 and call["prompt_tokens"] == 2
    assert call["cost"] > 0  # gpt-4o-mini is in litellm's cost map


def test_streaming_with_usage(sdk):
    stream = sdk.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "one two three"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_streaming_without_usage_sends_no_empty_chunk(sdk):
    chunks = list(sdk.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "a b"}], stream=True))
    assert all(c.choices for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: a b"


def test_embeddings_models_and_completions(sdk):
    vectors = sdk.embeddings.create(model="embed", input=["a b c", "d"])
    assert [d.embedding for d in vectors.data] == [[5.0, 0.0, 0.5], [1.0, 1.0, 0.5]]
    names = [m.id for m in sdk.models.list()]
    assert names[:3] == ["chat", "bad", "limited"] and "embed" in names
    text = sdk.completions.create(model="complete", prompt="say hi")
    assert text.choices[0].text == "echo: say hi"


def test_anthropic_style_provider(sdk, fake):
    reply = sdk.chat.completions.create(model="claude",
                                        messages=[{"role": "user", "content": "hi claude"}])
    assert reply.choices[0].message.content == "echo: hi claude"
    sent = [r for r in fake.requests if r["path"] == "/v1/messages"][-1]
    assert sent["headers"].get("x-api-key") == SECRET


def test_unknown_route_and_bad_requests(sdk, running):
    with pytest.raises(openai.NotFoundError) as exc:
        sdk.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert "'nope'" in exc.value.message and "chat" in exc.value.message
    with pytest.raises(openai.BadRequestError) as exc:
        sdk.chat.completions.create(model="chat", messages=[])
    assert "messages" in exc.value.message
    with pytest.raises(openai.BadRequestError, match="embeddings"):
        sdk.chat.completions.create(model="embed", messages=[{"role": "user", "content": "x"}])
    r = httpx.post(running.url + "/v1/chat/completions", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = httpx.post(running.url + "/v1/chat/completions", json={"messages": []})
    assert r.status_code == 400 and "'model' is required" in r.json()["error"]["message"]
    # a client may not point the gateway (and its provider key) somewhere else
    r = httpx.post(running.url + "/v1/chat/completions", json={
        "model": "chat", "messages": [{"role": "user", "content": "x"}],
        "api_base": "http://127.0.0.1:9/v1", "api_key": "mine"})
    assert r.status_code == 400 and "api_base, api_key" in r.json()["error"]["message"]
    r = httpx.post(running.url + "/v1/completions", json={"model": "complete", "prompt": "x",
                                                          "stream": True})
    assert r.status_code == 400 and r.json()["error"]["code"] == "stream_not_supported"


def _error(running, model, stream=False):
    r = httpx.post(running.url + "/v1/chat/completions", timeout=30, json={
        "model": model, "messages": [{"role": "user", "content": "x"}], "stream": stream})
    return r


def test_provider_500_is_502_in_openai_format(running):
    r = _error(running, "flaky")  # the first call fails, no retries for 500 here
    assert r.status_code == 502
    assert set(r.json()["error"]) >= {"message", "type", "code"}


def test_provider_429_answers_429_with_retry_after(sdk, running):
    r = _error(running, "limited")
    assert r.status_code == 429 and r.headers["Retry-After"].isdigit()
    assert r.json()["error"]["type"] == "rate_limit_error"


def test_timeout_is_504(running, fake):
    fake.slow_seconds = 3
    r = _error(running, "slow")
    assert r.status_code == 504 and r.json()["error"]["code"] == "timeout"


def test_connection_refused_is_502(running):
    r = _error(running, "refused")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "provider_unreachable"


def test_malformed_json_from_the_provider_is_502(running):
    r = _error(running, "broken-json")
    assert r.status_code == 502


def test_stream_that_stops_half_way(sdk, running):
    stream = sdk.chat.completions.create(
        model="half", messages=[{"role": "user", "content": "one two three four five"}],
        stream=True)
    got = []
    with pytest.raises(openai.APIError, match="broke off"):
        for chunk in stream:
            got.append(chunk.choices[0].delta.content or "")
    assert got and "".join(got).startswith("echo:")
    assert _calls(running, "half")[0]["status"] == 502


def test_fallbacks(sdk, running):
    reply = sdk.chat.completions.create(model="bad", messages=[{"role": "user", "content": "fb"}])
    assert reply.choices[0].message.content == "echo: fb"
    assert _calls(running, "bad")[0]["fallbacks"] >= 1
    for route in ("small", "strict"):  # context-window and content-policy fallbacks
        reply = sdk.chat.completions.create(model=route,
                                            messages=[{"role": "user", "content": route}])
        assert reply.choices[0].message.content == f"echo: {route}"


def test_retries(fake, module_client, secret_env):
    from kernelflow_gateway.config import parse_config
    from kernelflow_gateway.router import Gateway

    config = parse_config({"model_list": [{"model_name": "f", "litellm_params": {
        "model": "openai/retry-flaky", "api_base": fake.url + "/v1",
        "api_key": "os.environ/KF_TEST_PROVIDER_KEY"}}],
        "router_settings": {"num_retries": 2, "retry_after": 0}})
    running = serve_in_thread(Gateway(config))
    try:
        sdk = openai.OpenAI(base_url=running.url + "/v1", api_key="x", max_retries=0)
        before = fake.calls["retry-flaky"]
        reply = sdk.chat.completions.create(model="f", messages=[{"role": "user", "content": "r"}])
        assert reply.choices[0].message.content == "echo: r"
        assert fake.calls["retry-flaky"] - before == 2  # failed once, retried once
    finally:
        running.stop()


def test_health_and_unknown_path(running):
    assert httpx.get(running.url + "/health").json()["status"] == "OK"
    r = httpx.get(running.url + "/v2/nothing")
    assert r.status_code == 404 and "error" in r.json()


@pytest.mark.mlflow
def test_mlflow_deployments_client(running):
    deployments = pytest.importorskip("mlflow.deployments")
    client = deployments.get_deploy_client(running.url)
    names = [e.name for e in client.list_endpoints()]
    assert "chat" in names and "embed" in names
    endpoint = client.get_endpoint("chat")
    assert endpoint.endpoint_type == "llm/v1/chat" and endpoint.model.provider == "openai"
    reply = client.predict(endpoint="chat",
                           inputs={"messages": [{"role": "user", "content": "via mlflow"}]})
    assert reply["choices"][0]["message"]["content"] == "echo: via mlflow"
    vectors = client.predict(endpoint="embed", inputs={"input": ["x"]})
    assert vectors["data"][0]["embedding"] == [1.0, 0.0, 0.5]


def test_traceparent_is_continued(running):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = httpx.post(running.url + "/v1/chat/completions", json={
        "model": "chat", "messages": [{"role": "user", "content": "traced"}]},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert r.status_code == 200
    call = _calls(running, "chat")[0]
    if call["trace_id"] is None:
        pytest.skip("this kernelflow has no tracing")
    assert trace_id in call["trace_id"]


def test_every_call_is_recorded(running):
    calls = _calls(running, None)
    assert {"chat", "bad", "half", "embed"} <= {c["route"] for c in calls}
    assert all(c["latency_ms"] is not None for c in calls)
    errors = [c for c in calls if c["status"] >= 400]
    assert errors and all(c["error"] for c in errors)
    assert not any(SECRET in json.dumps(c) for c in calls)
