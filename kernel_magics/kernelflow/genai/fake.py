"""A fake OpenAI-compatible judge on 127.0.0.1, for tests, benchmarks and offline demos.

``FakeJudgeServer`` answers ``POST /v1/chat/completions`` with a JSON verdict. By
default the verdict is ``"yes"`` unless the prompt's response contains one of
``no_words`` (``"wrong"``, ``"unsafe"``, ``"I don't know"``). ``script`` queues
scripted replies consumed one per request, before the default: ``429`` (rate
limited, with ``Retry-After: 0``), ``500``, ``"garbage"`` (a non-JSON answer), or a
``(result, rationale)`` pair. ``latency`` delays every answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NO_WORDS = ("wrong", "unsafe", "i don't know")


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        owner = self.server.owner
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        action = owner.next_action(prompt)
        with owner._lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            if owner.latency:
                time.sleep(owner.latency)
            self._answer(body, action)
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _answer(self, body: dict, action: Any) -> None:
        if action == 429:
            self._send(429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
                       {"Retry-After": "0"})
        elif action == 500:
            self._send(500, {"error": {"message": "fake judge exploded", "type": "server"}})
        elif action == "garbage":
            self._send(200, _completion(body, "I refuse to answer in JSON."))
        else:
            result, rationale = action
            content = json.dumps({"rationale": rationale, "result": result})
            self._send(200, _completion(body, content))

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _completion(body: dict, content: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake-judge"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeJudgeServer


class FakeJudgeServer:
    """A local fake LLM judge; use as a context manager. ``url`` is its ``api_base``.

    Args:
        latency: seconds to wait before each answer.
        no_words: words in the judged response that make the verdict "no".
    """

    def __init__(self, latency: float = 0.0, no_words: tuple[str, ...] = NO_WORDS) -> None:
        self.latency, self.no_words = latency, no_words
        self.script: deque = deque()
        self.requests: list[str] = []
        self.in_flight = self.max_in_flight = 0  # concurrent requests now / at most
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The ``api_base`` to give a judge: ``http://127.0.0.1:PORT/v1``."""
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def next_action(self, prompt: str) -> Any:
        """The reply to this request: the next scripted one, or the default verdict."""
        with self._lock:
            self.requests.append(prompt)
            if self.script:
                return self.script.popleft()
        match = re.search(r"Response: (.*?)(?:\n|$)", prompt)
        judged = (match.group(1) if match else prompt).lower()
        if any(word in judged for word in self.no_words):
            return ("no", "The response is wrong or unhelpful.")
        return ("yes", "The response matches what was asked.")

    def start(self) -> FakeJudgeServer:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="kf-fake-judge")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJudgeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
