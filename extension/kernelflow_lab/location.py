"""Which store Lab shows, and how kernels started by this server learn where its dashboard is."""

from __future__ import annotations

import os

DASHBOARD_PATH = "kernelflow/"
API_PATH = "kernelflow-lab"
#: set by the server extension in the Jupyter server's environment, so kernels inherit them
ENV_DASHBOARD = "KERNELFLOW_LAB_DASHBOARD"
ENV_STORE = "KERNELFLOW_LAB_STORE"


def lab_tracking_uri() -> str:
    """The store Lab's panel and dashboard show: the one the user's notebooks log to.

    ``KERNELFLOW_TRACKING_URI`` when set (as an absolute ``sqlite:///`` URI, or the
    ``http://`` server it names), else ``kernelflow.db`` in the Jupyter server's
    working directory.
    """
    from kernelflow.config import DEFAULT_TRACKING_URI, resolve

    return resolve(os.environ.get("KERNELFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI).uri


def dashboard_path(base_url: str) -> str:
    """The dashboard's path on the Jupyter server (``{base_url}kernelflow/``)."""
    return "/" + "/".join(p for p in (base_url.strip("/"), DASHBOARD_PATH) if p)


def announce_to_kernels(base_url: str, tracking_uri: str) -> None:
    """Put the dashboard's same-origin path and its store in this process's environment.

    Kernels the server starts inherit it, so ``%kf dashboard`` links to the Lab-served
    dashboard instead of starting a server on another port (when it shows the same store).
    """
    os.environ[ENV_DASHBOARD] = dashboard_path(base_url)
    os.environ[ENV_STORE] = tracking_uri
