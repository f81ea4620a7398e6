"""Routing through litellm.Router as configured: weighted splits, strategies, cooldowns,
token limits, and a reload that lets calls in flight finish."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from gateway_helpers import serve_in_thread


def _gateway(fake, deployments, settings=None, extra=None):
    from kernelflow_gateway.config import parse_config
    from kernelflow_gateway.router import Gateway

    entries = [{"model_name": "chat", "litellm_params": {
        "model": f"openai/{model}", "api_base": fake.url + "/v1", "api_key": "k", **params}}
        for model, params in deployments]
    return Gateway(parse_config({"model_list": entries, "router_settings": settings or {},
                                 "kernelflow": extra or {}}))


def _ask(gateway, n):
    async def run():
        return [await gateway.call("chat", {"model": "chat", "messages": [
            {"role": "user", "content": "x"}]}) for _ in range(n)]
    return asyncio.run(run())


def test_weighted_split(fake):
    gateway = _gateway(fake, [("heavy", {"weight": 9}), ("light", {"weight": 1})])
    before = fake.calls["heavy"], fake.calls["light"]
    _ask(gateway, 60)
    heavy, light = fake.calls["heavy"] - before[0], fake.calls["light"] - before[1]
    assert heavy + light == 60 and heavy > 3 * light


@pytest.mark.parametrize("strategy", ["least-busy", "latency-based-routing", "simple-shuffle"])
def test_routing_strategies(fake, strategy):
    gateway = _gateway(fake, [("s-a", {}), ("s-b", {})], {"routing_strategy": strategy})
    replies = _ask(gateway, 6)
    assert all(r["choices"][0]["message"]["content"] == "echo: x" for r in replies)


def test_a_failing_deployment_is_cooled_down(fake):
    gateway = _gateway(fake, [("cool-fail-500", {}), ("cool-ok", {})],
                       {"num_retries": 2, "allowed_fails": 1, "cooldown_time": 60,
                        "retry_after": 0})
    before = fake.calls["cool-fail-500"]
    replies = _ask(gateway, 12)
    assert all(r["choices"][0]["message"]["content"] == "echo: x" for r in replies)
    assert fake.calls["cool-fail-500"] - before <= 3  # then it stops getting traffic


def test_tokens_per_minute_per_route(fake):
    from kernelflow_gateway.errors import GatewayError

    gateway = _gateway(fake, [("gpt-4o-mini", {})], extra={"routes": {"chat": {"tpm": 8}}})
    gateway.limiter.clock = lambda: 60_000.0 * 60  # one minute throughout
    _ask(gateway, 2)  # 3 tokens each: 6 < 8
    _ask(gateway, 1)  # 9 now counted
    with pytest.raises(GatewayError) as exc:
        _ask(gateway, 1)
    assert exc.value.http_status == 429 and "tokens per minute" in exc.value.message


def test_a_reload_lets_calls_in_flight_finish(fake):
    from kernelflow_gateway.config import parse_config

    fake.slow_seconds = 1.5
    gateway = _gateway(fake, [("reload-slow", {})])
    running = serve_in_thread(gateway)
    try:
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=httpx.post(
            running.url + "/v1/chat/completions", timeout=30,
            json={"model": "chat", "messages": [{"role": "user", "content": "in flight"}]})))
        thread.start()
        while not fake.calls["reload-slow"]:
            pass
        gateway.reload(parse_config({"model_list": [{"model_name": "other", "litellm_params": {
            "model": "openai/x", "api_base": fake.url + "/v1", "api_key": "k"}}]}))
        thread.join(timeout=30)
        assert result["r"].status_code == 200
        assert result["r"].json()["choices"][0]["message"]["content"] == "echo: in flight"
        after = httpx.post(running.url + "/v1/chat/completions", json={
            "model": "chat", "messages": [{"role": "user", "content": "x"}]})
        assert after.status_code == 404
    finally:
        running.stop()
