"""Gateway config files: LiteLLM's and MLflow's formats, secrets from the environment,
and errors that name the field that is wrong."""

from __future__ import annotations

import pytest

from kernelflow.errors import InvalidParameterError

LITELLM_YAML = """
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/KF_CFG_KEY, weight: 3}
  - model_name: chat
    litellm_params: {model: anthropic/claude-3-haiku-20240307, api_key: $KF_CFG_KEY, timeout: 5}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_key: "${KF_CFG_KEY}"}
    model_info: {mode: embedding}
router_settings:
  routing_strategy: least-busy
  num_retries: 2
  fallbacks: [{chat: [embed]}]
litellm_settings: {drop_params: true, num_retries: 1}
kernelflow:
  routes: {chat: {rpm: 60, tpm: 10000}}
  cache: {ttl: 30}
"""

MLFLOW_YAML = """
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config: {openai_api_key: $KF_CFG_KEY, openai_api_base: "http://127.0.0.1:9/v1"}
    limit: {renewal_period: minute, calls: 10}
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model: {provider: openai, name: text-embedding-3-small, config: {openai_api_key: $KF_CFG_KEY}}
"""


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("KF_CFG_KEY", "sk-config-secret-value")


def _load(tmp_path, text):
    from kernelflow_gateway.config import load_config

    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return load_config(path)


def test_litellm_format(tmp_path):
    config = _load(tmp_path, LITELLM_YAML)
    assert list(config.routes) == ["chat", "embed"]
    chat = config.routes["chat"]
    assert len(chat.deployments) == 2 and chat.rpm == 60 and chat.tpm == 10000
    assert {d["litellm_params"]["api_key"] for d in chat.deployments} == {"sk-config-secret-value"}
    assert config.routes["embed"].type == "embeddings"
    assert config.router_settings == {"routing_strategy": "least-busy", "num_retries": 2,
                                      "fallbacks": [{"chat": ["embed"]}]}
    assert config.cache_ttl == 30 and len(config.model_list()) == 3


def test_mlflow_format(tmp_path):
    config = _load(tmp_path, MLFLOW_YAML)
    chat = config.routes["chat"]
    assert chat.endpoint_type == "llm/v1/chat" and chat.rpm == 10
    assert chat.provider == "openai" and chat.model == "gpt-4o-mini"
    params = chat.deployments[0]["litellm_params"]
    assert params == {"model": "openai/gpt-4o-mini", "api_key": "sk-config-secret-value",
                      "api_base": "http://127.0.0.1:9/v1"}
    assert config.routes["embeddings"].type == "embeddings"


def test_the_router_builds_from_both(tmp_path):
    from kernelflow_gateway.router import build_router

    for text in (LITELLM_YAML, MLFLOW_YAML):
        router = build_router(_load(tmp_path, text))
        assert router.get_model_names()


@pytest.mark.parametrize("text, field", [
    ("model_list: []", "model_list"),
    ("model_list: [{litellm_params: {model: openai/x}}]", "model_list[0].model_name"),
    ("model_list: [{model_name: a}]", "model_list[0].litellm_params"),
    ("model_list: [{model_name: a, litellm_params: {api_key: k}}]",
     "model_list[0].litellm_params.model"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x, api_key: $KF_NOPE}}]",
     "model_list[0].litellm_params.api_key"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x, timeout: -1}}]",
     "model_list[0].litellm_params.timeout"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x}}]\n"
     "router_settings: {routing_stratgy: least-busy}", "router_settings.routing_stratgy"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x}}]\n"
     "router_settings: {routing_strategy: fastest}", "router_settings.routing_strategy"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x}}]\n"
     "router_settings: {fallbacks: [{a: [b]}]}", "router_settings.fallbacks[0]"),
    ("model_list: [{model_name: a, litellm_params: {model: openai/x}}]\n"
     "kernelflow: {routes: {a: {rpm: 0}}}", "kernelflow.routes.a.rpm"),
    ("endpoints: [{name: c, model: {name: gpt}}]", "endpoints[0].model.provider"),
    ("endpoints: [{name: c, endpoint_type: llm/v2/chat, model: {provider: openai, name: g}}]",
     "endpoints[0].endpoint_type"),
    ("endpoints: [{name: c, model: {provider: openai, name: g}, "
     "limit: {calls: 5, renewal_period: fortnight}}]", "endpoints[0].limit.renewal_period"),
    ("routes_typo: []", "model_list"),
    ("- just a list", "mapping"),
])
def test_errors_name_the_field(tmp_path, text, field):
    from kernelflow_gateway.config import GatewayConfigError

    with pytest.raises(GatewayConfigError) as exc:
        _load(tmp_path, text)
    assert field in exc.value.message
    assert isinstance(exc.value, InvalidParameterError)


def test_missing_and_unreadable_files(tmp_path):
    from kernelflow_gateway.config import GatewayConfigError, load_config

    with pytest.raises(GatewayConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("model_list: [unclosed")
    with pytest.raises(GatewayConfigError, match="could not be read"):
        load_config(tmp_path / "bad.yaml")


def test_secrets_are_redacted(tmp_path):
    from kernelflow_gateway.config import redact
    from kernelflow_gateway.errors import error_body

    _load(tmp_path, MLFLOW_YAML)
    assert redact("key=sk-config-secret-value!") == "key=***!"
    body = error_body("auth failed for sk-config-secret-value", "api_error")
    assert "sk-config-secret-value" not in body["error"]["message"]
