"""A local fake LLM provider on 127.0.0.1, for tests, benchmarks and the demo notebook.

It speaks three protocols on one port:

- OpenAI's (``/v1/chat/completions`` with SSE streaming, ``/v1/completions``,
  ``/v1/embeddings``, ``/v1/models``);
- Anthropic's (``/v1/messages``);
- MLflow's scoring protocol (``/invocations`` taking ``messages`` or ``inputs``).

The model name picks a behaviour, so one server can play a healthy provider and a
failing one: ``fail-429``, ``fail-500``, ``slow`` (sleeps ``slow_seconds``),
``malformed`` (invalid JSON), ``half-stream`` (a stream that stops half-way),
``context-overflow`` (a context-window error), ``content-policy`` (a content-policy
refusal) and ``flaky`` (fails every other request). Any other name answers normally: the reply is ``"echo: <last user message>"``.

Example:
    >>> with FakeProvider() as fake:
    ...     base = fake.url + "/v1"   # api_base for an ``openai/...`` model
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeProvider"]


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # OpenAI / Anthropic content parts
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content)
    return ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    # -- plumbing -------------------------------------------------------------
    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str) -> None:
        self._send(status, {"error": {"message": message, "type": code, "code": code}})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.record(self, {})
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]})
        elif self.path in ("/health", "/ping"):
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        self.server.record(self, body)
        path = self.path.split("?")[0].rstrip("/")
        model = str(body.get("model", ""))
        if self._fault(model, stream=bool(body.get("stream"))):
            return
        if path.endswith("/chat/completions"):
            self._chat(body)
        elif path.endswith("/completions"):
            self._completion(body)
        elif path.endswith("/embeddings"):
            self._embeddings(body)
        elif path.endswith("/messages"):
            self._anthropic(body)
        elif path.endswith("/invocations"):
            self._invocations(body)
        else:
            self._error(404, f"no route {self.path}", "not_found")

    # -- faults ---------------------------------------------------------------
    def _fault(self, model: str, stream: bool) -> bool:
        if model.endswith("fail-429"):
            self._error(429, "Rate limit reached for fake-model", "rate_limit_exceeded")
        elif model.endswith("fail-500"):
            self._error(500, "The fake provider had an internal error", "server_error")
        elif model.endswith("malformed"):
            self._send(200, None, raw=b'{"id": "x", "choices": [ this is not json')
        elif model.endswith("context-overflow"):
            self._error(400, "This model's maximum context length is 10 tokens. However, your "
                        "messages resulted in 500 tokens.", "context_length_exceeded")
        elif model.endswith("content-policy"):
            self._send(400, {"error": {
                "message": "Your request was rejected as a result of the safety system.",
                "type": "invalid_request_error", "code": "content_policy_violation"}})
        elif model.endswith("flaky") and self.server.calls[model] % 2 == 1:
            self._error(500, "The fake provider failed this time", "server_error")
        elif model.endswith("slow"):
            time.sleep(self.server.slow_seconds)
            return False
        else:
            return False
        return True

    # -- OpenAI ---------------------------------------------------------------
    def _usage(self, prompt: str, answer: str) -> dict:
        p, c = max(1, len(prompt.split())), max(1, len(answer.split()))
        return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}

    def _chat(self, body: dict) -> None:
        if not isinstance(body.get("messages"), list):
            self._error(400, "'messages' is required", "invalid_request_error")
            return
        prompt = _last_user_text(body["messages"])
        answer = f"echo: {prompt}"
        model = body.get("model", "fake-model")
        if body.get("stream"):
            self._stream(model, answer, self._usage(prompt, answer),
                         half=model.endswith("half-stream"))
            return
        self._send(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": self._usage(prompt, answer),
        })

    def _stream(self, model: str, answer: str, usage: dict, half: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        words = answer.split(" ")
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}
        for i, word in enumerate(words):
            if half and i >= len(words) // 2:
                self.wfile.flush()
                return  # the connection closes with no [DONE]
            delta = {"content": (" " if i else "") + word}
            if i == 0:
                delta["role"] = "assistant"
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
        self.wfile.write(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _completion(self, body: dict) -> None:
        prompt = body.get("prompt", "")
        prompt = " ".join(prompt) if isinstance(prompt, list) else str(prompt)
        answer = f"echo: {prompt}"
        self._send(200, {
            "id": "cmpl-fake", "object": "text_completion", "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "text": answer, "finish_reason": "stop", "logprobs": None}],
            "usage": self._usage(prompt, answer),
        })

    def _embeddings(self, body: dict) -> None:
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        data = [{"object": "embedding", "index": i,
                 "embedding": [float(len(str(text))), float(i), 0.5]}
                for i, text in enumerate(inputs)]
        n = sum(len(str(t).split()) for t in inputs) or 1
        self._send(200, {"object": "list", "data": data, "model": body.get("model", "fake"),
                         "usage": {"prompt_tokens": n, "total_tokens": n}})

    # -- Anthropic ------------------------------------------------------------
    def _anthropic(self, body: dict) -> None:
        if not self.headers.get("x-api-key"):
            self._send(401, {"type": "error", "error": {"type": "authentication_error",
                                                         "message": "missing x-api-key"}})
            return
        prompt = _last_user_text(body.get("messages", []))
        answer = f"echo: {prompt}"
        self._send(200, {
            "id": "msg_fake", "type": "message", "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": max(1, len(prompt.split())),
                      "output_tokens": max(1, len(answer.split()))},
        })

    # -- MLflow scoring -------------------------------------------------------
    def _invocations(self, body: dict) -> None:
        messages = body.get("messages")
        if messages is None and isinstance(body.get("inputs"), dict):
            messages = body["inputs"].get("messages")
        if not isinstance(messages, list):
            self._send(400, {"error_code": "BAD_REQUEST",
                             "message": "expected 'messages' or 'inputs'"})
            return
        prefix = self.server.scoring_prefix
        self._send(200, {"predictions": [f"{prefix}{_last_user_text(messages)}"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.slow_seconds = 2.0
        self.scoring_prefix = "model says: "
        self.calls: Counter[str] = Counter()
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    def record(self, handler: _Handler, body: dict) -> None:
        with self._lock:
            self.calls[str(body.get("model", handler.path))] += 1
            if len(self.requests) < 1000:
                self.requests.append({"path": handler.path, "headers": dict(handler.headers),
                                      "body": body})


class FakeProvider:
    """A fake OpenAI-, Anthropic- and MLflow-scoring-compatible server in a thread.

    Args:
        port: the port to bind on 127.0.0.1 (0 picks a free one).

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        calls: requests seen per model name.
        requests: the first 1000 requests (path, headers, body).
    """

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port))
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> Counter[str]:
        return self._server.calls

    @property
    def requests(self) -> list[dict]:
        return self._server.requests

    @property
    def slow_seconds(self) -> float:
        return self._server.slow_seconds

    @slow_seconds.setter
    def slow_seconds(self, value: float) -> None:
        self._server.slow_seconds = value

    @property
    def scoring_prefix(self) -> str:
        return self._server.scoring_prefix

    @scoring_prefix.setter
    def scoring_prefix(self, value: str) -> None:
        self._server.scoring_prefix = value

    def start(self) -> FakeProvider:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="kernelflow-fake-provider")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # python -m kernelflow_gateway.fake [PORT]
    import sys

    fake = FakeProvider(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.url, flush=True)
    fake._server.serve_forever()
