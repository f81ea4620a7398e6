"""A small OpenAI-compatible provider on 127.0.0.1 for the tracing tests (the internet edge)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.requests.append((self.path, body, dict(self.headers)))
        model = body.get("model", "m")
        if model == "fail-500":
            return self._json(500, {"error": {"message": "upstream exploded", "type": "server"}})
        if self.path.endswith("/embeddings"):
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else inputs
            return self._json(200, {
                "object": "list", "model": model,
                "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                         for i, _ in enumerate(inputs)],
                "usage": {"prompt_tokens": 4 * len(inputs), "total_tokens": 4 * len(inputs)}})
        text = "echo: " + str(body["messages"][-1]["content"])
        usage = {"prompt_tokens": 7, "completion_tokens": len(text.split()),
                 "total_tokens": 7 + len(text.split())}
        if not body.get("stream"):
            return self._json(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = text.split(" ")
        chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": w if i == 0
                                                      else " " + w}, "finish_reason": None}]}
                  for i, w in enumerate(words)]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({"choices": [], "usage": usage})
        for c in chunks:
            c.update({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                      "model": model})
            self._chunk(f"data: {json.dumps(c)}\n\n".encode())
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class FakeLLM:
    """``with FakeLLM() as fake: fake.base_url`` (``http://127.0.0.1:<port>/v1``)."""

    def __enter__(self) -> FakeLLM:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.requests = []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        return self

    @property
    def requests(self) -> list:
        return self.server.requests

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
