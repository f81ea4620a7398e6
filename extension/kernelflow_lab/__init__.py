"""kernelflow inside JupyterLab: the server half of the ``kernelflow-lab`` extension.

Three things plug kernelflow into a Jupyter server:

- the prebuilt labextension (``labextension/``, installed to
  ``share/jupyter/labextensions/kernelflow-lab``): launcher tile, palette
  entries, the dashboard in a Lab tab and the runs side panel;
- this server extension: the side panel's small JSON API under
  ``{base_url}kernelflow-lab/`` (:mod:`kernelflow_lab.handlers`), reading the
  store through ``kernelflow.Client`` so the dashboard need not run for it;
- a jupyter-server-proxy entry (:mod:`kernelflow_lab.proxy`): the dashboard at
  ``{base_url}kernelflow/`` on Jupyter's own origin and login, started on first use.

This module stays light: Jupyter imports it while it starts.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
LABEXTENSION_NAME = "kernelflow-lab"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": LABEXTENSION_NAME}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "kernelflow_lab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the side panel's API; make kernels log to the panel's store and know the
    dashboard (see :func:`kernelflow_lab.location.announce_to_kernels`).

    Args:
        server_app: the running ``jupyter_server`` ``ServerApp``.
    """
    from .handlers import setup_handlers
    from .location import announce_to_kernels, lab_tracking_uri

    uri = lab_tracking_uri(getattr(server_app, "root_dir", None))
    setup_handlers(server_app.web_app, uri)
    announce_to_kernels(server_app.web_app.settings.get("base_url", "/"), uri)
    server_app.log.info("kernelflow: side panel API and dashboard proxy for %s", uri)


# The older name, still looked up by some launchers (Binder, JupyterHub images).
load_jupyter_server_extension = _load_jupyter_server_extension
