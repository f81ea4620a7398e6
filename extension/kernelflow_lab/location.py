"""Which store Lab shows, and how kernels started by this server learn where its dashboard is."""

from __future__ import annotations

import os

DASHBOARD_PATH = "kernelflow/"
API_PATH = "kernelflow-lab"
#: set by the server extension in the Jupyter server's environment, so kernels inherit them
ENV_DASHBOARD = "KERNELFLOW_LAB_DASHBOARD"
ENV_STORE = "KERNELFLOW_LAB_STORE"


def lab_tracking_uri(root_dir: str | None = None) -> str:
    """The store Lab's panel and dashboard show, as an absolute URI.

    ``KERNELFLOW_TRACKING_URI`` when set, else ``kernelflow.db`` in ``root_dir`` (the
    Jupyter server's root directory; default: the working directory).
    """
    from kernelflow.config import resolve

    uri = os.environ.get("KERNELFLOW_TRACKING_URI")
    if not uri:
        uri = os.path.join(os.path.abspath(os.path.expanduser(root_dir or ".")), "kernelflow.db")
    return resolve(uri).uri


def dashboard_path(base_url: str) -> str:
    """The dashboard's path on the Jupyter server (``{base_url}kernelflow/``)."""
    return "/" + "/".join(p for p in (base_url.strip("/"), DASHBOARD_PATH) if p)


def announce_to_kernels(base_url: str, tracking_uri: str) -> None:
    """Make the kernels this server starts log to ``tracking_uri`` and know the dashboard.

    Kernels inherit the server's environment. ``KERNELFLOW_TRACKING_URI``, made absolute
    (a relative path would name another file in each notebook's folder), makes notebooks in
    every folder log to the one store the panel and the dashboard show;
    ``KERNELFLOW_LAB_DASHBOARD`` lets ``%kf dashboard`` link to the same-origin dashboard
    instead of starting a server on another port.

    Args:
        base_url: the Jupyter server's base URL.
        tracking_uri: the store, from :func:`lab_tracking_uri` (absolute).
    """
    os.environ["KERNELFLOW_TRACKING_URI"] = tracking_uri
    os.environ[ENV_DASHBOARD] = dashboard_path(base_url)
    os.environ[ENV_STORE] = tracking_uri
