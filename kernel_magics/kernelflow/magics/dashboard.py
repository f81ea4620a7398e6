"""``%kf dashboard``: start (or reuse) ``kernelflow ui`` beside the kernel and link to it.

The dashboard runs in its own process (``python -m kernelflow ui``) so the
kernel never imports Panel or Bokeh. A server on the port is reused only when it
is a kernelflow server (``X-Kernelflow-Version`` on ``/api/2.0/kernelflow/version``)
serving this kernel's store. When the tracking URI is itself a kernelflow server
(``http://host:port``), the magic links to it instead of starting anything.

The page opens on the runs of the kernel's active experiment, scaled to fit the
cell's width. A server the magic started stops when the kernel shuts down
(an ``atexit`` hook), unless ``--keep`` asked to leave it running.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import socket
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
VERSION_PATH = "/api/2.0/kernelflow/version"
VERSION_HEADER = "X-Kernelflow-Version"
#: set by kernelflow's JupyterLab extension in the environment of the kernels Lab starts
LAB_DASHBOARD_ENV, LAB_STORE_ENV = "KERNELFLOW_LAB_DASHBOARD", "KERNELFLOW_LAB_STORE"
NOTHING, SAME_STORE, OTHER_STORE, OTHER_SERVICE = (
    "nothing", "this store", "a kernelflow server of another store", "another service")
DASHBOARD_MIN_WIDTH = 1440  # px: narrower cells show the page scaled down, not cut off
_processes: dict[int, subprocess.Popen] = {}
_kept: set[int] = set()  # ports whose server outlives the kernel (--keep)


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


def _get_json(url: str, timeout: float) -> tuple[dict | None, dict]:
    """GET ``url`` as JSON: (body or None, headers); ``(None, {})`` when nothing answers."""
    request = urllib.request.Request(url)
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            headers = dict(resp.headers.items())
            return json.loads(resp.read().decode("utf-8")), headers
    except (urllib.error.URLError, OSError, ValueError):
        return None, {}


def kernelflow_version(url: str, timeout: float = 2.0) -> str | None:
    """The kernelflow version of the server at ``url``; None when it is not a kernelflow server."""
    body, headers = _get_json(f"{url}{VERSION_PATH}", timeout)
    version = {k.lower(): v for k, v in headers.items()}.get(VERSION_HEADER.lower())
    if not version or not isinstance(body, dict) or "kernelflow_version" not in body:
        return None
    return version


def serves_this_store(url: str, timeout: float = 2.0) -> bool:
    """Whether the kernelflow server at ``url`` serves the store of this kernel's tracking URI.

    Every tracking file carries a random ``store_id``; the server publishes its own.
    """
    from .. import fluent

    body, _ = _get_json(f"{url}{VERSION_PATH}", timeout)
    if not isinstance(body, dict) or not body.get("store_id"):
        return False
    return body["store_id"] == fluent.default_client().store_id


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def who_serves(host: str, port: int) -> str:
    """What answers on ``host:port``: NOTHING, SAME_STORE, OTHER_STORE or OTHER_SERVICE."""
    url = f"http://{host}:{port}"
    if not _listening(host, port):
        return NOTHING
    if kernelflow_version(url) is None:
        return OTHER_SERVICE
    return SAME_STORE if serves_this_store(url) else OTHER_STORE


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_dashboard(
    port: int = DEFAULT_PORT, host: str = "127.0.0.1", command: list[str] | None = None,
    timeout: float = START_TIMEOUT_S, pick_free: bool = False,
) -> tuple[str, bool]:
    """Start the dashboard in the background unless one of this store already answers on ``port``.

    Args:
        port: TCP port.
        host: address to bind.
        command: the server command (default: ``python -m kernelflow ui ...``).
        timeout: seconds to wait for ``/health``.
        pick_free: when something else holds ``port``, use a free port instead of failing.

    Returns:
        (url, started): ``started`` is False when a running dashboard was reused.

    Raises:
        UsageError: when the port is taken by something else (and ``pick_free`` is False),
            or the server exits or does not answer in time (with its log).
    """
    found = who_serves(host, port)
    if found == SAME_STORE:
        return f"http://{host}:{port}", False
    if found != NOTHING:
        if not pick_free:
            raise UsageError(f"%kf dashboard: port {port} is used by {found}, not a dashboard of "
                             f"this kernel's store. Choose another port: %kf dashboard --port N.")
        taken, port = port, free_port(host)
        print(f"kernelflow: port {taken} is used by {found}; using port {port}.", file=sys.stderr)
    return _launch(port, host, command or dashboard_command(port, host), timeout), True


def _launch(port: int, host: str, command: list[str], timeout: float) -> str:
    url = f"http://{host}:{port}"
    log = tempfile.NamedTemporaryFile("w+", prefix="kernelflow-ui-", suffix=".log", delete=False)
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ))
    _processes[port] = proc
    _stop_at_exit()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _processes.pop(port, None)
            raise UsageError(f"%kf dashboard: the server exited with code {proc.returncode}.\n"
                             f"{_tail(log.name)}\nFull log: {log.name}")
        if healthy(url, timeout=0.5):
            return url
        time.sleep(0.2)
    stop_dashboard(port)
    raise UsageError(f"%kf dashboard: no answer on {url}/health after {timeout:.0f} s; stopped it.\n"
                     f"{_tail(log.name)}\nFull log: {log.name}")


def _tail(path: str, lines: int = 15) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def _stop_at_exit() -> None:
    if not getattr(_stop_at_exit, "registered", False):
        atexit.register(stop_started_dashboards)
        _stop_at_exit.registered = True  # type: ignore[attr-defined]


def stop_started_dashboards() -> list[int]:
    """Stop every dashboard this kernel started, except those started with ``--keep``.

    Runs when the kernel's process exits (shutdown or restart).

    Returns:
        The ports that were stopped.
    """
    return [p for p in sorted(_processes) if p not in _kept and stop_dashboard(p)]


def running_url() -> str | None:
    """Where the browser reaches a dashboard of this kernel's store now, or None.

    The tracking server when the tracking URI is ``http://``, else a dashboard this
    kernel started that still runs, else one of this store on the default port
    (``kernelflow ui`` started in a terminal).
    """
    from ..capture import redact_url
    from ..config import get_tracking_uri

    uri = get_tracking_uri()
    if uri.startswith(("http://", "https://")):
        return redact_url(uri.rstrip("/"))
    for port, proc in sorted(_processes.items()):
        if proc.poll() is None:
            return browser_url(f"http://127.0.0.1:{port}", port).rstrip("/")
    if who_serves("127.0.0.1", DEFAULT_PORT) == SAME_STORE:
        return browser_url(f"http://127.0.0.1:{DEFAULT_PORT}", DEFAULT_PORT).rstrip("/")
    return None


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
    p.add_argument("--port", type=port_number, default=None,
                   help=f"port (default {DEFAULT_PORT}, or a free one when that is taken)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--stop", action="store_true", help="stop the dashboard this kernel started")
    p.add_argument("--no-iframe", action="store_true", help="show only the link")
    p.add_argument("--height", type=int, default=600, help="IFrame height in pixels")
    p.add_argument("--keep", action="store_true",
                   help="leave the server running when the kernel shuts down")


@command("dashboard", "open the kernelflow dashboard (started in the background if needed)",
         _dashboard_arguments)
def dashboard(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from ..config import get_tracking_uri

    if args.stop:
        _stop(args.port)
        return
    uri = get_tracking_uri()
    if uri.startswith(("http://", "https://")):
        _show(_tracking_server(uri), "the tracking server", args)
        return
    if (lab_path := lab_dashboard(args.port, args.host)) is not None:
        _show_lab(lab_path, args)
        return
    url, started = start_dashboard(args.port or DEFAULT_PORT, args.host,
                                   pick_free=args.port is None)
    port = int(url.rsplit(":", 1)[1])
    if args.keep:
        _kept.add(port)
    if started:
        proc = _processes.get(port)
        pid = f" (pid {proc.pid})" if proc is not None else ""
        print(f"kernelflow: started the dashboard{pid} on port {port}; "
              + ("it keeps running after the kernel (--keep)." if args.keep else
                 "it stops when the kernel shuts down (--keep leaves it running)."))
    _show(browser_url(url, port), "started" if started else "already running", args)


def lab_dashboard(port: int | None = None, host: str = "127.0.0.1") -> str | None:
    """The same-origin path of the dashboard of the JupyterLab this kernel runs in, or None.

    kernelflow's Lab extension serves the dashboard at ``{base_url}kernelflow/`` and tells
    the kernels it starts (``KERNELFLOW_LAB_DASHBOARD``, ``KERNELFLOW_LAB_STORE``). It is
    used when it shows this kernel's store and no ``--port``/``--host`` asks for a server
    of the kernel's own.
    """
    path, store = os.environ.get(LAB_DASHBOARD_ENV), os.environ.get(LAB_STORE_ENV)
    if not path or not store or port is not None or host != "127.0.0.1":
        return None
    from ..config import get_tracking_uri, resolve
    from ..errors import KernelflowError

    try:
        same = resolve(get_tracking_uri()).uri == resolve(store).uri
    except KernelflowError:
        return None
    return path if same else None


def _show_lab(path: str, args: argparse.Namespace) -> None:
    """Link to the Lab-served dashboard; the extension opens the link in a Lab tab."""
    import html

    from IPython.display import HTML, IFrame, display

    safe = html.escape(path, quote=True)
    display(HTML(f'kernelflow dashboard (served by JupyterLab): <a href="{safe}" target="_blank" '
                 f'data-kernelflow-lab="">open it in a Lab tab</a>'))
    if not args.no_iframe:
        display(IFrame(path, width="100%", height=args.height))


def _stop(port: int | None) -> None:
    ports = [port] if port is not None else sorted(_processes)
    stopped = [p for p in ports if stop_dashboard(p)]
    if stopped:
        print(f"kernelflow: stopped the dashboard on port {', '.join(map(str, stopped))}")
    else:
        print(f"kernelflow: no dashboard started by this kernel on port {port or DEFAULT_PORT}")


def _tracking_server(uri: str) -> str:
    """The tracking URI's server, when it is a kernelflow server that answers."""
    from ..capture import redact_url

    url = uri.rstrip("/")
    if kernelflow_version(url, timeout=5.0) is None:
        raise UsageError(f"%kf dashboard: the tracking URI {redact_url(url)} is not a kernelflow "
                         "server that answers now. Start it there with `kernelflow ui`, or set "
                         "KERNELFLOW_TRACKING_URI to a sqlite:/// file to open a local dashboard.")
    return redact_url(url)


def runs_page(link: str) -> str:
    """The dashboard's runs page of the active experiment, under ``link`` (the server's root)."""
    from urllib.parse import quote

    from .. import fluent

    try:
        exp_id = fluent._current_experiment_id()
    except Exception:  # no experiment yet (or a server that does not answer): the home page
        return link
    return f"{link.rstrip('/')}/runs?experiment_id={quote(str(exp_id))}"


def frame_html(src: str, height: int, min_width: int = DASHBOARD_MIN_WIDTH) -> str:
    """An IFrame as wide as the cell; where the cell is narrower than ``min_width`` the page is
    laid out at ``min_width`` and scaled down to fit, so nothing on its right is cut off."""
    import html
    import uuid

    uid = f"kf-dash-{uuid.uuid4().hex[:10]}"
    safe = html.escape(src, quote=True)
    return (
        f'<div class="kf-dashboard-frame" id="{uid}" style="width:100%;height:{height}px;'
        f'overflow:hidden;position:relative;border:1px solid var(--jp-border-color2,#e0e0e0)">'
        f'<iframe src="{safe}" title="kernelflow dashboard" style="border:0;width:100%;'
        f'height:{height}px;transform-origin:0 0"></iframe></div>'
        f"<script>(function(){{var box=document.getElementById({uid!r});"
        f"if(!box)return;var f=box.querySelector('iframe');function fit(){{"
        f"var w=box.clientWidth,s=Math.min(1,w/{min_width});"
        f"f.style.width=(s<1?{min_width}:w)+'px';f.style.height=({height}/s)+'px';"
        f"f.style.transform=s<1?'scale('+s+')':'';}}fit();"
        f"if(window.ResizeObserver)new ResizeObserver(fit).observe(box);}})();</script>"
    )


def _show(link: str, how: str, args: argparse.Namespace) -> None:
    import html

    from IPython.display import HTML, display

    page = runs_page(link)
    safe = html.escape(page, quote=True)
    display(HTML(f'kernelflow dashboard ({how}): <a href="{safe}" target="_blank">{safe}</a>'))
    if not args.no_iframe:
        display(HTML(frame_html(page, args.height)))


def browser_url(url: str, port: int) -> str:
    """Where the browser reaches the dashboard: through jupyter-server-proxy on JupyterHub/Binder."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    return f"{prefix.rstrip('/')}/proxy/{port}/" if prefix else url
