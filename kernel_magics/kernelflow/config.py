"""Where data goes: the tracking URI and the artifact root."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import InvalidParameterError

DEFAULT_TRACKING_URI = "sqlite:///./kernelflow.db"
_tracking_uri: str | None = None


@dataclass(frozen=True)
class Location:
    """A resolved tracking URI."""

    uri: str
    scheme: str  # "sqlite" or "http"
    db_path: str | None = None
    artifact_root: str | None = None


def set_tracking_uri(uri: str | os.PathLike) -> None:
    """Set where runs are logged: ``sqlite:///path.db``, a plain ``.db`` path or ``http://host:port``.

    Args:
        uri: the tracking URI; overrides ``KERNELFLOW_TRACKING_URI``.
    """
    global _tracking_uri
    resolve(str(uri))  # fail early on a bad URI
    _tracking_uri = str(uri)
    from . import client

    client.reset_default_client()


def get_tracking_uri() -> str:
    """Return the tracking URI in effect (set_tracking_uri, env var, or the default)."""
    return _tracking_uri or os.environ.get("KERNELFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def resolve(uri: str) -> Location:
    """Turn a tracking URI into a Location with absolute paths."""
    if uri.startswith(("http://", "https://")):
        return Location(uri.rstrip("/"), "http")
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        if path.startswith("/"):
            path = "/" + path.lstrip("/")
    elif uri.startswith("file:") or "://" in uri:
        raise InvalidParameterError(
            f"Tracking URI {uri!r} is not supported. Use sqlite:///path/to/file.db, a plain "
            "path ending in .db, or http://host:port of a `kernelflow ui` server."
        )
    else:
        path = uri
    if not path or path.endswith("/"):
        raise InvalidParameterError(f"Tracking URI {uri!r} names no file; add a file name like kernelflow.db.")
    db_path = os.path.abspath(os.path.expanduser(path))
    default_root = os.path.join(os.path.dirname(db_path), "kernelflow-artifacts")
    root = os.environ.get("KERNELFLOW_ARTIFACT_ROOT") or default_root
    return Location(f"sqlite:///{db_path}", "sqlite", db_path, os.path.abspath(root))
