"""Helpers shared by the gateway tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

SECRET = "sk-kf-provider-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    url: str
    gateway: Any
    client: Any
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def serve_in_thread(gateway: Any, client: Any = None, watch: bool = False) -> Running:
    import uvicorn

    from kernelflow_gateway.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(gateway, watch=watch), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    return Running(f"http://127.0.0.1:{port}", gateway, client, server, thread)
