"""Map the store's local artifact paths to the URIs REST clients use, with MLflow's rules.

The store keeps absolute local paths (``<root>/<experiment>/<run>/artifacts``). With
``--serve-artifacts`` (the default) the server presents every path under its artifact
root as ``mlflow-artifacts:/<path relative to the root>``, which MLflow's client
resolves to ``http://<server>/api/2.0/mlflow-artifacts/artifacts/<path>``; with
``--no-serve-artifacts`` it presents the real path, which the client reads and writes
itself, as MLflow does. A location a client gave explicitly (another folder, a
``file://`` or ``s3://`` URI) is stored and shown as given.

The server itself only ever reads or writes under its root: :meth:`ArtifactUris.readable`
is the check every server-side artifact access goes through.
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
        serve_artifacts: present locations under the root as ``mlflow-artifacts:/`` URIs
            (MLflow's ``--serve-artifacts``); when false, as the real paths.
    """

    def __init__(self, root: str, serve_artifacts: bool = True) -> None:
        self.root = os.path.abspath(root)
        self.serve_artifacts = serve_artifacts

    def to_remote(self, location: str | None) -> str | None:
        """Return ``location`` as a ``mlflow-artifacts:/`` URI if it lies under the root
        and the server serves artifacts; anything else as stored."""
        if not location or not self.serve_artifacts or "://" in location \
                or location.startswith(f"{SCHEME}:"):
            return location
        path = os.path.abspath(location)
        if path == self.root:
            return f"{SCHEME}:/"
        if path.startswith(self.root + os.sep):
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            return f"{SCHEME}:/{rel}"
        return location

    def stored(self, uri: str | None) -> str | None:
        """The experiment ``artifact_location`` to store for what a client sent (MLflow's rules).

        ``mlflow-artifacts:/<path>`` becomes the local folder under the root; a relative
        path is made absolute against the server's working directory (as MLflow's
        ``resolve_uri_if_local``); anything else (an absolute path, ``file://``, ``s3://``)
        is kept as given. The server never writes there: the client does, or the server
        refuses at artifact access (:meth:`readable`).
        """
        if not uri:
            return None
        if uri.startswith(f"{SCHEME}:"):
            return self.to_local(uri)
        if "\x00" in uri:
            raise InvalidParameterError(f"Invalid artifact location {uri!r}: it holds a NUL.")
        if ":" in uri.split("/", 1)[0] or os.path.isabs(uri):
            return uri
        return os.path.abspath(uri)

    def readable(self, location: str, what: str = "artifacts") -> str:
        """The local folder of ``location`` if the server may read it (under its root).

        Raises:
            InvalidParameterError: for a location elsewhere (another folder, ``s3://``):
                the client that logged there reads it directly, as MLflow's does.
        """
        path = location
        if location.startswith(f"{SCHEME}:"):
            return self.to_local(location)
        if location.startswith("file:"):
            path = unquote(urlparse(location).path)
        if os.path.isabs(path):
            real, root = os.path.realpath(path), os.path.realpath(self.root)
            if real == root or real.startswith(root + os.sep):
                return path
        raise InvalidParameterError(
            f"The {what} at {location!r} are outside this server's artifact root "
            f"({self.root}), so it does not serve them: read them where they were logged "
            "(MLflow's client does so for such locations), or log to a location under the root."
        )

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
