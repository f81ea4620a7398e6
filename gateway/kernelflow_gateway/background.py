"""``%kf gateway``: one gateway per kernel, in a child process, reused while it runs.

Starting it sets ``KERNELFLOW_GATEWAY_URL`` so :func:`kernelflow_gateway.chat` and
``%%kf llm`` use it. The child records into the kernel's tracking store.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from kernelflow.errors import KernelflowError

__all__ = ["BackgroundGateway", "start_background", "stop_background"]

_current: dict[str, Any] = {}


@dataclass
class BackgroundGateway:
    """A gateway started by this kernel.

    Attributes:
        url: its base URL (``/v1/...`` below it).
        config: the config file it serves.
        pid: its process id.
    """

    url: str
    config: str
    pid: int

    def _repr_markdown_(self) -> str:
        return (f"LLM gateway at [{self.url}]({self.url}/v1/models) serving `{self.config}` "
                f"(pid {self.pid}); `chat()` and `%%kf llm` use it.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def start_background(config: str | None, port: int | None = None,
                     timeout: float = 90.0) -> BackgroundGateway:
    """Start a gateway for ``config`` (or reuse the one already serving it).

    Raises:
        KernelflowError: no config given, or the gateway did not start (its output says why).
    """
    import kernelflow

    config = config or os.environ.get("KERNELFLOW_GATEWAY_CONFIG")
    if not config:
        raise KernelflowError("Give the gateway's config: %kf gateway --config gateway.yaml")
    config = os.path.abspath(config)
    found = _current.get("gateway")
    proc = _current.get("proc")
    if found is not None and proc is not None and proc.poll() is None:
        if found.config == config and (port is None or found.url.endswith(f":{port}")):
            os.environ["KERNELFLOW_GATEWAY_URL"] = found.url
            return found
        stop_background()
    from .config import load_config

    load_config(config)  # a bad config is reported here, naming the field
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = os.path.join(os.path.dirname(config), f".kernelflow-gateway-{port}.log")
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes it while it runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "kernelflow", "gateway", "--config", config, "--port", str(port),
         "--store", kernelflow.get_tracking_uri()],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            with open(log_path, encoding="utf-8", errors="replace") as f:
                output = f.read()[-2000:]
            raise KernelflowError(f"The gateway did not start. Its output:\n{output}")
        time.sleep(0.2)
    gateway = BackgroundGateway(url=url, config=config, pid=proc.pid)
    _current.update(gateway=gateway, proc=proc, log=log)
    os.environ["KERNELFLOW_GATEWAY_URL"] = url
    return gateway


def stop_background() -> None:
    """Stop the gateway this kernel started, if any."""
    proc = _current.pop("proc", None)
    gateway = _current.pop("gateway", None)
    log = _current.pop("log", None)
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if log is not None:
        log.close()
    if gateway is not None and os.environ.get("KERNELFLOW_GATEWAY_URL") == gateway.url:
        del os.environ["KERNELFLOW_GATEWAY_URL"]


atexit.register(stop_background)
