"""The ``kernelflow`` provider: a served registry model as an OpenAI-compatible chat model.

``model: kernelflow/models:/support-bot@champion`` resolves, at every request, the
alias to a version and that version to a deployment recorded in the store by
``kernelflow serve``; moving the alias moves the route, with no restart. The OpenAI
chat request becomes MLflow's scoring payload ``{"inputs": {"messages": [...]},
"params": {...}}`` and the model's predictions become a chat completion.
``kernelflow/NAME`` names a deployment directly; ``api_base`` in the route's
``litellm_params`` pins a fixed URL instead.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import litellm
from litellm.llms.custom_llm import CustomLLM, CustomLLMError

from kernelflow.errors import KernelflowError

__all__ = ["KernelflowProvider", "register_kernelflow_provider", "parse_model_uri",
           "resolve_deployment_url", "predictions_text"]

_PARAMS = ("temperature", "max_tokens", "top_p", "stop", "n")


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``models:/name@alias`` or ``models:/name/version`` as (name, alias, version)."""
    rest = uri[len("models:/"):].strip("/")
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        return name, alias, None
    name, _, version = rest.partition("/")
    return name, None, version or None


def resolve_deployment_url(client: Any, model: str) -> str:
    """The URL of the running deployment serving ``model`` (a models:/ URI or a name).

    Raises:
        KernelflowError: no running deployment serves it (the message says what to run).
    """
    deployments = client.list_deployments()
    running = [d for d in deployments if d.url and d.status in ("RUNNING", "UPDATING")]
    if model.startswith("models:/"):
        name, alias, version = parse_model_uri(model)
        if alias is not None:
            version = str(client.get_model_version_by_alias(name, alias).version)
        for d in running:
            if d.model_name == name and version is not None and str(d.model_version) == version:
                return d.url
        for d in running:
            if d.model_uri == model:
                return d.url
    else:
        for d in running:
            if d.name == model:
                return d.url
    known = ", ".join(f"{d.name} ({d.model_uri}, {d.status})" for d in deployments) or "none"
    raise KernelflowError(
        f"No running deployment serves {model}. Start one with: kernelflow serve {model}. "
        f"Recorded deployments: {known}.")


def predictions_text(body: Any) -> tuple[str, dict | None]:
    """The answer text (and usage, if the model gave one) in a scoring response."""
    pred = body.get("predictions", body) if isinstance(body, dict) else body
    if isinstance(pred, list) and len(pred) == 1:
        pred = pred[0]
    if isinstance(pred, dict) and isinstance(pred.get("choices"), list) and pred["choices"]:
        choice = pred["choices"][0]
        message = choice.get("message") or {}
        return str(message.get("content", choice.get("text", ""))), pred.get("usage")
    if isinstance(pred, dict):
        for key in ("content", "text", "answer", "output", "response"):
            if key in pred:
                return str(pred[key]), None
        return json.dumps(pred), None
    if isinstance(pred, list):
        return "\n".join(str(p) for p in pred), None
    return str(pred), None


class KernelflowProvider(CustomLLM):
    """litellm's custom handler for ``kernelflow/...`` models.

    Args:
        client: the ``kernelflow.Client`` whose store records the deployments (None: the
            default client of ``KERNELFLOW_TRACKING_URI``).
    """

    def __init__(self, client: Any = None) -> None:
        super().__init__()
        self.client = client

    def _client(self) -> Any:
        if self.client is None:
            import kernelflow

            self.client = kernelflow.Client()
        return self.client

    def _url(self, model: str, api_base: str | None) -> str:
        if api_base:
            return api_base.rstrip("/")
        try:
            return resolve_deployment_url(self._client(), model).rstrip("/")
        except KernelflowError as exc:
            raise CustomLLMError(status_code=404, message=exc.message) from None

    async def _score(self, model: str, messages: list, api_base: str | None,
                     optional_params: dict, timeout: Any) -> tuple[str, dict | None]:
        url = self._url(model, api_base) + "/invocations"
        params = {k: optional_params[k] for k in _PARAMS if optional_params.get(k) is not None}
        payload: dict[str, Any] = {"inputs": {"messages": messages}}
        if params:
            payload["params"] = params
        seconds = timeout if isinstance(timeout, (int, float)) else 600.0
        try:
            async with httpx.AsyncClient(timeout=seconds) as http:
                response = await http.post(url, json=payload)
        except httpx.TimeoutException:
            raise litellm.Timeout(message=f"The served model at {url} did not answer in "
                                  f"{seconds:.0f} s.", model=model,
                                  llm_provider="kernelflow") from None
        except httpx.HTTPError as exc:
            raise CustomLLMError(status_code=502, message=f"Could not reach the served model "
                                 f"at {url}: {exc}") from None
        if response.status_code >= 400:
            raise CustomLLMError(status_code=response.status_code,
                                 message=f"The served model at {url} answered "
                                 f"{response.status_code}: {response.text[:500]}")
        try:
            return predictions_text(response.json())
        except ValueError:
            raise CustomLLMError(status_code=502, message=f"The served model at {url} "
                                 "answered with invalid JSON.") from None

    async def acompletion(self, model: str, messages: list, api_base: str,
                          custom_prompt_dict: dict, model_response: Any, print_verbose: Any,
                          encoding: Any, api_key: Any, logging_obj: Any,
                          optional_params: dict, *args: Any, timeout: Any = None,
                          **kwargs: Any) -> Any:
        text, usage = await self._score(model, messages, api_base, optional_params, timeout)
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage = usage or {"prompt_tokens": prompt, "completion_tokens": len(text.split()),
                          "total_tokens": prompt + len(text.split())}
        return litellm.ModelResponse(
            model=model, created=int(time.time()),
            choices=[{"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": text}}],
            usage=usage)

    async def astreaming(self, model: str, messages: list, api_base: str,
                         custom_prompt_dict: dict, model_response: Any, print_verbose: Any,
                         encoding: Any, api_key: Any, logging_obj: Any,
                         optional_params: dict, *args: Any, timeout: Any = None,
                         **kwargs: Any) -> Any:
        text, usage = await self._score(model, messages, api_base, optional_params, timeout)
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        yield {"text": text, "is_finished": True, "finish_reason": "stop", "index": 0,
               "tool_use": None,
               "usage": usage or {"prompt_tokens": prompt,
                                  "completion_tokens": len(text.split()),
                                  "total_tokens": prompt + len(text.split())}}

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        raise CustomLLMError(status_code=400, message="The kernelflow provider is async only; "
                             "call it through the gateway.")


_provider = KernelflowProvider()


def register_kernelflow_provider(client: Any = None) -> KernelflowProvider:
    """Make ``kernelflow/...`` models known to litellm (idempotent)."""
    if client is not None:
        _provider.client = client
    entry = {"provider": "kernelflow", "custom_handler": _provider}
    if not any(e.get("provider") == "kernelflow" for e in litellm.custom_provider_map):
        litellm.custom_provider_map.append(entry)
        litellm._custom_providers = list({*litellm._custom_providers, "kernelflow"}) \
            if hasattr(litellm, "_custom_providers") else ["kernelflow"]
    from litellm.utils import custom_llm_setup

    custom_llm_setup()
    return _provider
