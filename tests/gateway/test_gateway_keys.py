"""Gateway keys: hashed in the store, shown once, budgets, rpm, route restrictions, revocation;
and no provider secret in the store, logs, traces or error messages."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import httpx
import pytest
from gateway_helpers import SECRET, serve_in_thread

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def running(fake, module_client, secret_env):
    from kernelflow_gateway.config import parse_config
    from kernelflow_gateway.router import Gateway

    base = fake.url + "/v1"
    config = parse_config({"model_list": [
        {"model_name": name, "litellm_params": {"model": model, "api_base": base,
                                                 "api_key": "os.environ/KF_TEST_PROVIDER_KEY"}}
        for name, model in [("chat", "openai/gpt-4o-mini"), ("other", "openai/gpt-4o-mini"),
                            ("bad", "openai/fail-500"), ("limited", "openai/fail-429")]],
        "kernelflow": {"routes": {"other": {"rpm": 3}}}})
    gateway = Gateway(config, client=module_client, token="admin-token")
    gateway.limiter.clock = lambda: 60_000.0 * 60 + 30  # one minute throughout, 30 s in
    running = serve_in_thread(gateway, module_client)
    yield running
    running.stop()


def _chat(running, key, route="chat"):
    return httpx.post(running.url + "/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {key}"} if key else {},
                      json={"model": route, "messages": [{"role": "user", "content": "hi"}]})


def test_a_key_is_stored_hashed_and_shown_once(module_client):
    key = module_client.create_gateway_key("hash-check", budget=1.0)
    assert key.key.startswith("kfk-") and len(key.key) > 30
    listed = {k.name: k for k in module_client.list_gateway_keys()}["hash-check"]
    assert listed.key is None and listed.prefix == key.key[:8]
    module_client.flush()
    db = module_client.tracking_uri.replace("sqlite:///", "")
    assert key.key.encode() not in open(db, "rb").read()
    assert module_client.verify_gateway_key(key.key).name == "hash-check"
    assert module_client.verify_gateway_key("kfk-wrong") is None
    with pytest.raises(Exception, match="already exists"):
        module_client.create_gateway_key("hash-check")


def test_keys_are_required_once_one_exists(running, module_client):
    module_client.create_gateway_key("team-a")
    running.gateway._keys_checked = 0  # forget the cached "no keys yet"
    r = _chat(running, None)
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_api_key"
    assert _chat(running, "kfk-not-a-key").status_code == 401
    assert _chat(running, "admin-token").status_code == 200


def test_the_openai_sdk_with_a_key_and_route_restrictions(running, module_client):
    key = module_client.create_gateway_key("only-chat", routes=["chat"])
    sdk = openai.OpenAI(base_url=running.url + "/v1", api_key=key.key, max_retries=0)
    reply = sdk.chat.completions.create(model="chat", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == "echo: x"
    assert [m.id for m in sdk.models.list()] == ["chat"]
    with pytest.raises(openai.PermissionDeniedError, match="only-chat"):
        sdk.chat.completions.create(model="other", messages=[{"role": "user", "content": "x"}])
    running.gateway.recorder.flush()
    calls = module_client.search_gateway_calls(key_name="only-chat")
    assert calls and calls[0]["key_name"] == "only-chat"
    assert key.key not in json.dumps(calls)


def test_rpm_per_key_answers_429_with_retry_after(running, module_client):
    key = module_client.create_gateway_key("slowpoke", rpm=2)
    statuses = [_chat(running, key.key).status_code for _ in range(2)]
    third = _chat(running, key.key)
    assert statuses == [200, 200] and third.status_code == 429
    assert third.headers["Retry-After"] == "30"
    assert "2 requests per minute" in third.json()["error"]["message"]


def test_rpm_per_route(running):
    statuses = [_chat(running, "admin-token", route="other").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429


def test_an_exhausted_budget_answers_429(running, module_client):
    key = module_client.create_gateway_key("tiny", budget=0.000001)
    assert _chat(running, key.key).status_code == 200  # gpt-4o-mini costs more than that
    running.gateway.recorder.flush()
    spent = {k.name: k for k in module_client.list_gateway_keys()}["tiny"]
    assert spent.spend > spent.budget
    r = _chat(running, key.key)
    assert r.status_code == 429 and r.json()["error"]["code"] == "budget_exceeded"
    assert "budget" in r.json()["error"]["message"] and "Retry-After" in r.headers


def test_a_revoked_key_stops_working(running, module_client):
    key = module_client.create_gateway_key("leaving")
    assert _chat(running, key.key).status_code == 200
    module_client.revoke_gateway_key("leaving")
    assert _chat(running, key.key).status_code == 401
    assert "leaving" not in [k.name for k in module_client.list_gateway_keys()]


def test_keys_cli(module_client, tmp_path):
    env = {"KERNELFLOW_TRACKING_URI": module_client.tracking_uri, "PATH": "/usr/bin:/bin",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "kernelflow", "gateway", "keys", *a],  # noqa: E731
                                    capture_output=True, text=True, env=env, timeout=60)
    created = run("create", "--name", "cli-team", "--budget", "5.00", "--rpm", "60",
                  "--routes", "chat,embed")
    assert created.returncode == 0, created.stderr
    secret = next(w for w in created.stdout.split() if w.startswith("kfk-"))
    listed = run("list")
    assert "cli-team" in listed.stdout and "chat,embed" in listed.stdout
    assert secret not in listed.stdout
    assert run("revoke", "cli-team").returncode == 0
    gone = run("revoke", "cli-team")
    assert gone.returncode == 2 and "No active gateway key" in gone.stderr


def test_the_provider_secret_never_leaks(running, module_client, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    bodies = [_chat(running, "admin-token", route=r).text for r in ("chat", "bad", "limited")]
    bad_config = httpx.post(running.url + "/v1/chat/completions", timeout=30,
                            headers={"Authorization": "Bearer admin-token"},
                            json={"model": "chat", "messages": "not a list"}).text
    running.gateway.recorder.flush()
    module_client.flush()
    db = module_client.tracking_uri.replace("sqlite:///", "")
    import glob

    stored = b"".join(open(p, "rb").read() for p in glob.glob(db + "*"))
    out, err = capfd.readouterr()
    traces = json.dumps(module_client.search_gateway_calls(max_results=10_000))
    assert '"status": 502' in traces or "502" in traces  # the failing calls were recorded
    for where, text in [("responses", "".join(bodies) + bad_config), ("logs", caplog.text),
                        ("stdout/stderr", out + err), ("call records", traces)]:
        assert SECRET not in text, f"the provider secret appears in the {where}"
    assert SECRET.encode() not in stored, "the provider secret appears in the store"
