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

    def to_local(self, uri: str | None) -> str | None:
        """Return the local path for a URI a client sent (``None`` stays ``None``).

        Raises:
            InvalidParameterError: for a URI that leaves the root or a scheme the
                server cannot store (``s3://`` and the like).
        """
        if not uri:
            return None
        if uri.startswith(f"{SCHEME}:"):
            return safe_join(self.root, self.relative(uri) or None)
        if uri.startswith("file:"):
            return unquote(urlparse(uri).path)
        if os.path.isabs(uri):
            return uri
        if "://" in uri or ":" in uri.split("/", 1)[0]:
            raise InvalidParameterError(
                f"Artifact location {uri!r} is not supported by a kernelflow server: use "
                f"'{SCHEME}:/<path>' (stored under the server's artifact root) or omit it."
            )
        raise InvalidParameterError(
            f"Artifact location {uri!r} must be a '{SCHEME}:/<path>' URI or an absolute path."
        )

    @staticmethod
    def relative(uri: str) -> str:
        """The root-relative path of a ``mlflow-artifacts:`` URI (host and port ignored)."""
        return unquote(urlparse(uri).path).lstrip("/")
