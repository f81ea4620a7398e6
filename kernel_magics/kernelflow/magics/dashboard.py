"""``%kf dashboard``: start (or reuse) ``kernelflow ui`` beside the kernel and link to it.

The dashboard runs in its own process (``python -m kernelflow ui``) so the
kernel never imports Panel or Bokeh. A dashboard already answering ``/health``
on the port is reused.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

from IPython.core.error import UsageError

from .parser import command

DEFAULT_PORT = 5000
START_TIMEOUT_S = 60.0
_processes: dict[int, subprocess.Popen] = {}


def healthy(url: str, timeout: float = 1.0) -> bool:
    """True when ``url/health`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def dashboard_command(port: int, host: str) -> list[str]:
    """The command that serves the dashboard for the current tracking URI."""
    from ..config import get_tracking_uri

    return [sys.executable, "-m", "kernelflow", "ui", "--host", host, "--port", str(port),
            "--store", get_tracking_uri()]


def start_dashboard(
    port: int = DEFAULT_PORT, host: str = "127.0.0.1", command: list[str] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> tuple[str, bool]:
    """Start the dashboard in the background unless one already answers on ``port``.

    Args:
        port: TCP port.
        host: address to bind.
        command: the server command (default: ``python -m kernelflow ui ...``).
        timeout: seconds to wait for ``/health``.

    Returns:
        (url, started): ``started`` is False when a running dashboard was reused.

    Raises:
        UsageError: when the server exits or does not answer in time (with its log).
    """
    url = f"http://{host}:{port}"
    if healthy(url):
        return url, False
    log = tempfile.NamedTemporaryFile("w+", prefix="kernelflow-ui-", suffix=".log", delete=False)
    proc = subprocess.Popen(command or dashboard_command(port, host), stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ))
    _processes[port] = proc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url, timeout=0.5):
            return url, True
        if proc.poll() is not None:
            raise UsageError(f"%kf dashboard: the server exited with code {proc.returncode}.\n"
                             f"{_tail(log.name)}\nFull log: {log.name}")
        time.sleep(0.2)
    stop_dashboard(port)
    raise UsageError(f"%kf dashboard: no answer on {url}/health after {timeout:.0f} s; stopped it.\n"
                     f"{_tail(log.name)}\nFull log: {log.name}")


def _tail(path: str, lines: int = 15) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def stop_dashboard(port: int = DEFAULT_PORT) -> bool:
    """Stop a dashboard this kernel started; return True if there was one."""
    proc = _processes.pop(port, None)
    if proc is None:
        return False
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    return True


def port_number(text: str) -> int:
    """An argparse type: a TCP port from 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: use a number from 1-65535")
    return port


def _dashboard_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--stop", action="store_true", help="stop the dashboard this kernel started")
    p.add_argument("--no-iframe", action="store_true", help="show only the link")
    p.add_argument("--height", type=int, default=600, help="IFrame height in pixels")


@command("dashboard", "open the kernelflow dashboard (started in the background if needed)",
         _dashboard_arguments)
def dashboard(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from IPython.display import HTML, IFrame, display

    if args.stop:
        stopped = stop_dashboard(args.port)
        print(f"kernelflow: {'stopped' if stopped else 'no dashboard started by this kernel on'} "
              f"port {args.port}")
        return
    url, started = start_dashboard(args.port, args.host)
    how = "started" if started else "already running"
    link = browser_url(url, args.port)
    display(HTML(f'kernelflow dashboard ({how}): <a href="{link}" target="_blank">{link}</a>'))
    if not args.no_iframe:
        display(IFrame(link, width="100%", height=args.height))


def browser_url(url: str, port: int) -> str:
    """Where the browser reaches the dashboard: through jupyter-server-proxy on JupyterHub/Binder."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    return f"{prefix.rstrip('/')}/proxy/{port}/" if prefix else url
