"""The kernelflow/ provider: a route to a served registry model, resolved through the store at
request time, against real HTTP servers speaking MLflow's /invocations protocol."""

from __future__ import annotations

import pytest
from gateway_helpers import serve_in_thread

openai = pytest.importorskip("openai")


@pytest.fixture
def two_versions(client, tmp_path):
    """A registered model with versions 1 and 2, each 'served' by its own scoring server."""
    from kernelflow_gateway.fake import FakeProvider

    servers = [FakeProvider().start(), FakeProvider().start()]
    servers[0].scoring_prefix, servers[1].scoring_prefix = "v1 says: ", "v2 says: "
    client.create_registered_model("support-bot")
    run = client.create_run(client.create_experiment("bots"))
    for i, server in enumerate(servers, start=1):
        client.create_model_version("support-bot", str(tmp_path / f"m{i}"), run.info.run_id)
        client.record_deployment(f"support-bot-v{i}", f"models:/support-bot/{i}",
                                 model_name="support-bot", model_version=str(i),
                                 url=server.url, status="RUNNING")
    client.set_registered_model_alias("support-bot", "champion", 1)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def gateway_url(client, two_versions):
    from kernelflow_gateway.config import parse_config
    from kernelflow_gateway.router import Gateway

    config = parse_config({"endpoints": [
        {"name": "bot", "endpoint_type": "llm/v1/chat",
         "model": {"provider": "kernelflow", "name": "models:/support-bot@champion"}},
        {"name": "ghost", "endpoint_type": "llm/v1/chat",
         "model": {"provider": "kernelflow", "name": "models:/nobody@champion"}}]})
    running = serve_in_thread(Gateway(config, client=client))
    yield running.url
    running.stop()


def test_a_served_model_answers_as_an_openai_model(gateway_url, two_versions, client):
    sdk = openai.OpenAI(base_url=gateway_url + "/v1", api_key="x", max_retries=0)
    ask = lambda: sdk.chat.completions.create(  # noqa: E731
        model="bot", messages=[{"role": "user", "content": "where is my order"}])
    reply = ask()
    assert reply.choices[0].message.content == "v1 says: where is my order"
    sent = two_versions[0].requests[-1]
    assert sent["path"] == "/invocations"
    assert sent["body"]["inputs"]["messages"][0]["content"] == "where is my order"
    client.set_registered_model_alias("support-bot", "champion", 2)  # no restart
    assert ask().choices[0].message.content == "v2 says: where is my order"
    chunks = list(sdk.chat.completions.create(
        model="bot", stream=True, messages=[{"role": "user", "content": "stream me"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "v2 says: stream me"


def test_no_deployment_for_the_model_is_a_clear_error(gateway_url):
    sdk = openai.OpenAI(base_url=gateway_url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.APIStatusError) as exc:
        sdk.chat.completions.create(model="ghost", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code in (400, 404, 502)
    assert "nobody" in exc.value.message


def test_predictions_shapes():
    from kernelflow_gateway.provider import parse_model_uri, predictions_text

    assert predictions_text({"predictions": ["hi"]}) == ("hi", None)
    assert predictions_text({"predictions": [{"content": "yo"}]}) == ("yo", None)
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    chat = {"choices": [{"message": {"role": "assistant", "content": "c"}}], "usage": usage}
    assert predictions_text({"predictions": chat}) == ("c", usage)
    assert parse_model_uri("models:/a@b") == ("a", "b", None)
    assert parse_model_uri("models:/a/3") == ("a", None, "3")
