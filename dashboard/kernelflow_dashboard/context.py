"""The dashboard's configured ``kernelflow.Client``, shared by the UI pages and the REST API.

``serve()`` calls :func:`configure` once at start-up; pages and handlers call
:func:`get_client`. Tests may call :func:`configure` directly with their own
tracking URI (a seam instead of monkeypatching).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep ``import kernelflow_dashboard.context`` cheap
    from kernelflow import Client

_lock = threading.Lock()
_client: Client | None = None
_tracking_uri: str | None = None
_artifact_root: str | None = None


def configure(tracking_uri: str | None = None, artifact_root: str | None = None) -> Client:
    """Create the dashboard's client for ``tracking_uri`` and make it the shared one.

    Args:
        tracking_uri: ``sqlite:///file.db``, a ``.db`` path or ``http://host:port``;
            defaults to kernelflow's current tracking URI.
        artifact_root: folder for run artifacts when the store is a SQLite file;
            ``None`` keeps the store's default (beside the database).

    Returns:
        The configured ``kernelflow.Client``.
    """
    global _client, _tracking_uri, _artifact_root
    from kernelflow import Client

    uri = _with_artifact_root(tracking_uri, artifact_root)
    with _lock:
        _client = Client(uri)
        _tracking_uri, _artifact_root = uri, artifact_root
        return _client


def get_client() -> Client:
    """Return the dashboard's shared client, configuring the default one on first use."""
    client = _client
    if client is None:
        with _lock:
            client = _client
        if client is None:
            client = configure()
    return client


def get_store():
    """Return the store behind the shared client (``SqliteStore`` or ``RestStore``)."""
    return get_client()


def tracking_uri() -> str:
    """The tracking URI the dashboard serves."""
    return get_client().tracking_uri


def _with_artifact_root(tracking_uri: str | None, artifact_root: str | None) -> str | None:
    """Apply ``artifact_root`` through ``KERNELFLOW_ARTIFACT_ROOT``, which the core reads.

    The core resolves the artifact root when it first opens a store for a URI, so this
    must run before that; the dashboard server is its own process, so it does.
    """
    if artifact_root:
        import os

        os.environ["KERNELFLOW_ARTIFACT_ROOT"] = os.path.abspath(os.path.expanduser(artifact_root))
    return tracking_uri


__all__ = ["configure", "get_client", "get_store", "tracking_uri"]
