"""Map the store's local artifact paths to the ``mlflow-artifacts:/`` URIs REST clients use.

The store keeps absolute local paths (``<root>/<experiment>/<run>/artifacts``). Over
REST the server presents every path under its artifact root as
``mlflow-artifacts:/<path relative to the root>``, which MLflow's client resolves
to ``http://<server>/api/2.0/mlflow-artifacts/artifacts/<path>``, and maps such URIs
back when a client sends them (``artifact_location``, model version ``source``).
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

from kernelflow.artifacts import safe_join
from kernelflow.errors import InvalidParameterError

SCHEME = "mlflow-artifacts"


class ArtifactUris:
    """Translates between local artifact paths and ``mlflow-artifacts:/`` URIs.

    Args:
        root: the server's artifact root folder; nothing outside it is served.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def to_remote(self, location: str | None) -> str | None:
        """Return ``location`` as a ``mlflow-artifacts:/`` URI if it lies under the root."""
        if not location or "://" in location or location.startswith(f"{SCHEME}:"):
            return location
        path = os.path.abspath(location)
        if path == self.root:
            return f"{SCHEME}:/"
        if path.startswith(self.root + os.sep):
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            return f"{SCHEME}:/{rel}"
        return location

    def to_local(self, uri: str | None, what: str = "Artifact location") -> str | None:
        """Return the local path under the root for a location a client sent (``None`` stays).

        A REST client may only name places under the server's artifact root: a
        ``mlflow-artifacts:/<path>`` URI, or a path (or ``file:`` URI) inside the root.

        Args:
            uri: the client's location.
            what: how the field is named in the error message.

        Raises:
            InvalidParameterError: for anything outside the root (another folder on the
                server, ``..``, a symlink out, a scheme such as ``s3://``).
        """
        if not uri:
            return None
        if uri.startswith(f"{SCHEME}:"):
            return safe_join(self.root, self.relative(uri) or None)
        path = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
        if os.path.isabs(path):
            rel = os.path.relpath(os.path.abspath(path), self.root)
            if rel != ".." and not rel.startswith(".." + os.sep):
                return safe_join(self.root, None if rel == "." else rel)
        raise InvalidParameterError(
            f"{what} {uri!r} is not allowed: this server keeps artifacts only under its "
            f"artifact root. Use a '{SCHEME}:/<path>' URI or leave it out."
        )

    @staticmethod
    def relative(uri: str) -> str:
        """The root-relative path of a ``mlflow-artifacts:`` URI (host and port ignored)."""
        return unquote(urlparse(uri).path).lstrip("/")
