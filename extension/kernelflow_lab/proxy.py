"""The dashboard behind Jupyter's own server: a jupyter-server-proxy server process.

jupyter-server-proxy finds :func:`setup_kernelflow` through the
``jupyter_serverproxy_servers`` entry point. On the first request to
``{base_url}kernelflow/`` it starts ``kernelflow ui`` on a free loopback port
(restarting it if it dies) and proxies HTTP and websockets to it, behind
Jupyter's login. The dashboard serves every route under that same path
(``--prefix``), so the proxy passes paths through unchanged (``absolute_url``).

Only the proxy can reach the dashboard process: it requires a random token that
this process generates and the proxy adds to every request it forwards.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

from .location import DASHBOARD_PATH, ENV_STORE, lab_tracking_uri

START_TIMEOUT_S = 120.0  # Panel's imports take a few seconds on a busy machine


def dashboard_command(port: int, base_url: str, tracking_uri: str) -> list[str]:
    """The ``kernelflow ui`` command serving ``tracking_uri`` under ``{base_url}kernelflow``."""
    prefix = "/" + "/".join(p for p in (base_url.strip("/"), DASHBOARD_PATH.strip("/")) if p)
    return [sys.executable, "-m", "kernelflow", "ui", "--host", "127.0.0.1", "--port", str(port),
            "--prefix", prefix, "--allowed-hosts", "*", "--store", tracking_uri]


def setup_kernelflow() -> dict[str, Any]:
    """jupyter-server-proxy's server-process settings for the kernelflow dashboard."""
    token = secrets.token_urlsafe(32)

    def command(port: int, base_url: str) -> list[str]:
        # Called on first use, after the server extension has settled the store.
        # jupyter-server-proxy str.format()s what a callable returns: keep braces literal.
        uri = os.environ.get(ENV_STORE) or lab_tracking_uri()
        return [part.replace("{", "{{").replace("}", "}}")
                for part in dashboard_command(port, base_url, uri)]

    return {
        "command": command,
        "environment": {"KERNELFLOW_TOKEN": token},
        "request_headers_override": {"Authorization": f"Bearer {token}"},
        "absolute_url": True,
        "timeout": START_TIMEOUT_S,
        # the labextension adds its own launcher tile, which opens the dashboard in a Lab tab
        "launcher_entry": {"enabled": False},
        "new_browser_tab": False,
    }
