"""``chat`` and ``embed``: call the gateway from Python.

They use the gateway at ``KERNELFLOW_GATEWAY_URL`` (which ``%kf gateway`` sets);
with none, they run the router in this process with the routes of
``KERNELFLOW_GATEWAY_CONFIG``. Either way the call continues the caller's active
trace (its ``traceparent`` goes along), so a call made inside a run's span is part
of that trace; with no span but an active run, the gateway links its trace to the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

from kernelflow.errors import KernelflowError

__all__ = ["chat", "embed", "gateway_url"]

ENV_URL = "KERNELFLOW_GATEWAY_URL"
ENV_CONFIG = "KERNELFLOW_GATEWAY_CONFIG"
ENV_KEY = "KERNELFLOW_GATEWAY_KEY"
RUN_HEADER = "X-Kernelflow-Run-Id"

_local: dict[str, Any] = {}
_lock = threading.Lock()


def gateway_url() -> str | None:
    """The gateway these functions call (None: in-process)."""
    return os.environ.get(ENV_URL) or None


def chat(route: str, messages: list[dict] | str, stream: bool = False,
         **params: Any) -> dict | Iterator[dict]:
    """Send a chat completion through the gateway.

    Args:
        route: the route's name (``model`` in OpenAI's API).
        messages: OpenAI messages, or one user message as a string.
        stream: yield OpenAI chunks as they arrive instead of returning one response.
        **params: ``temperature``, ``max_tokens`` and the other OpenAI parameters.

    Returns:
        The OpenAI chat completion as a dict (``["choices"][0]["message"]["content"]``),
        or an iterator of chunk dicts when ``stream``.

    Raises:
        KernelflowError: the gateway refused or failed the call (the message says why).
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    body = {"model": route, "messages": messages, **params}
    if stream:
        body["stream"] = True
        return _stream(body)
    return _call("chat", body)


def embed(route: str, inputs: str | list[str], **params: Any) -> list[list[float]]:
    """Embed one text or several through the gateway.

    Args:
        route: an embeddings route.
        inputs: a text or a list of texts.
        **params: other OpenAI embeddings parameters.

    Returns:
        One vector per input, in order.
    """
    texts = [inputs] if isinstance(inputs, str) else list(inputs)
    data = _call("embeddings", {"model": route, "input": texts, **params})
    return [item["embedding"] for item in sorted(data["data"], key=lambda d: d["index"])]


# -- over HTTP ---------------------------------------------------------------------------
def _headers() -> dict[str, str]:
    headers = {}
    try:
        from kernelflow.tracing import context_headers

        headers.update(context_headers())
    except ImportError:
        pass
    import kernelflow

    run = kernelflow.active_run()
    if run is not None and "traceparent" not in headers:  # the gateway links its trace to the run
        headers[RUN_HEADER] = run.info.run_id
    key = os.environ.get(ENV_KEY)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


_PATHS = {"chat": "/v1/chat/completions", "completions": "/v1/completions",
          "embeddings": "/v1/embeddings"}


def _raise(status: int, text: str) -> None:
    try:
        message = json.loads(text)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = text[:500]
    raise KernelflowError(f"The gateway answered {status}: {message}")


def _call(kind: str, body: dict) -> dict:
    url = gateway_url()
    if url is None:
        return _in_process(kind, body)
    import httpx

    try:
        response = httpx.post(url.rstrip("/") + _PATHS[kind], json=body, headers=_headers(),
                              timeout=600)
    except httpx.HTTPError as exc:
        raise KernelflowError(f"Could not reach the gateway at {url}: {exc}. Start one with "
                              "%kf gateway --config FILE, or unset KERNELFLOW_GATEWAY_URL.") \
            from None
    if response.status_code >= 400:
        _raise(response.status_code, response.text)
    return response.json()


def _stream(body: dict) -> Iterator[dict]:
    url = gateway_url()
    if url is None:
        yield from _in_process_stream(body)
        return
    import httpx

    with httpx.stream("POST", url.rstrip("/") + _PATHS["chat"], json=body,
                      headers=_headers(), timeout=600) as response:
        if response.status_code >= 400:
            _raise(response.status_code, response.read().decode())
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                return
            chunk = json.loads(data)
            if "error" in chunk:
                raise KernelflowError(f"The gateway's stream failed: "
                                      f"{chunk['error'].get('message')}")
            yield chunk


# -- in process --------------------------------------------------------------------------
def _loop() -> asyncio.AbstractEventLoop:
    """One event loop in a daemon thread: works under Jupyter's running loop too."""
    with _lock:
        loop = _local.get("loop")
        if loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True,
                             name="kernelflow-gateway-loop").start()
            _local["loop"] = loop
        return loop


def _gateway() -> Any:
    path = os.environ.get(ENV_CONFIG)
    if not path:
        raise KernelflowError(
            "No gateway to call: set KERNELFLOW_GATEWAY_URL to a running gateway (or start "
            "one with %kf gateway --config FILE), or KERNELFLOW_GATEWAY_CONFIG to a config "
            "file to route calls in this process.")
    path = os.path.abspath(path)
    with _lock:
        found = _local.get("gateway")
        if found is not None and found[0] == path:
            return found[1]
    import kernelflow

    from .config import load_config
    from .router import Gateway

    gateway = Gateway(load_config(path), client=kernelflow.Client(), experiment=None)
    with _lock:
        _local["gateway"] = (path, gateway)
    return gateway


def _run(coro: Any) -> Any:
    try:
        return asyncio.run_coroutine_threadsafe(coro, _loop()).result()
    except KernelflowError as exc:
        raise KernelflowError(f"The gateway refused the call: {exc.message}") from None


def _in_process(kind: str, body: dict) -> dict:
    # in this process, kernelflow's tracing finds the active run by itself
    return _run(_gateway().call(kind, body, _trace_headers()))


def _trace_headers() -> dict[str, str]:
    try:
        from kernelflow.tracing import context_headers

        return context_headers()
    except ImportError:
        return {}


_END = object()


async def _next(chunks: Any) -> Any:
    try:
        return await chunks.__anext__()
    except StopAsyncIteration:
        return _END


def _in_process_stream(body: dict) -> Iterator[dict]:
    chunks = _run(_gateway().stream(body, _trace_headers()))
    while (chunk := _run(_next(chunks))) is not _END:
        yield chunk
