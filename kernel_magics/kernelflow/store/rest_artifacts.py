"""Run artifacts over HTTP: MLflow's artifact proxy (``mlflow-artifacts``) as a repository."""

from __future__ import annotations

import os

from ..artifacts import FileInfo
from ..errors import InvalidParameterError, ResourceNotFoundError
from .rest_http import TIMEOUT_S, error_from_response


def _int(value) -> int | None:
    return None if value is None else int(value)


class RestArtifactRepository:
    """A run's artifacts on a server, through ``/api/2.0/mlflow-artifacts/artifacts``.

    Args:
        session: the store's ``requests.Session`` (keep-alive, auth header).
        base_url: the server, like ``http://127.0.0.1:5000``.
        artifact_uri: the run's ``mlflow-artifacts:/<exp>/<run>/artifacts`` URI.
    """

    def __init__(self, session, base_url: str, artifact_uri: str) -> None:
        from urllib.parse import unquote, urlparse

        self.session = session
        self.base_url = base_url
        self.root = unquote(urlparse(artifact_uri).path).strip("/")

    def _url(self, rel: str) -> str:
        from urllib.parse import quote

        return f"{self.base_url}/api/2.0/mlflow-artifacts/artifacts/{quote(rel)}"

    def _join(self, *parts: str | None) -> str:
        return "/".join(p.strip("/") for p in (self.root, *parts) if p and p.strip("/"))

    def _check(self, resp) -> None:
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, resp.text, resp.url)

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> str:
        """Upload one file; return its path relative to the run's artifacts."""
        if not os.path.isfile(local_path):
            raise ResourceNotFoundError(
                f"Cannot log artifact {local_path!r}: no such file. Use log_artifacts() for a folder."
            )
        _check_relative(artifact_path)
        name = os.path.basename(local_path)
        with open(local_path, "rb") as f:
            self._check(self.session.put(self._url(self._join(artifact_path, name)), data=f,
                                         timeout=TIMEOUT_S))
        return "/".join(p for p in (artifact_path, name) if p)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload a folder's contents, keeping its layout."""
        if not os.path.isdir(local_dir):
            raise ResourceNotFoundError(
                f"Cannot log artifacts from {local_dir!r}: no such folder. Use log_artifact() for a file."
            )
        for folder, _, files in os.walk(local_dir):
            rel = os.path.relpath(folder, local_dir).replace(os.sep, "/")
            sub = "/".join(p for p in (artifact_path, "" if rel == "." else rel) if p) or None
            for name in files:
                self.log_artifact(os.path.join(folder, name), sub)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List one level under ``path`` (folders first), paths relative to the run."""
        _check_relative(path)
        resp = self.session.get(f"{self.base_url}/api/2.0/mlflow-artifacts/artifacts",
                                params={"path": self._join(path)}, timeout=TIMEOUT_S)
        self._check(resp)
        prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        infos = [FileInfo(prefix + f["path"], bool(f.get("is_dir")), _int(f.get("file_size")))
                 for f in resp.json().get("files", [])]
        return sorted(infos, key=lambda i: (not i.is_dir, i.path))

    def download_artifacts(self, path: str | None = None, dst_path: str | None = None) -> str:
        """Download a file or folder; return its local path (under ``dst_path`` or a temp dir)."""
        import tempfile

        _check_relative(path)
        dst = dst_path or tempfile.mkdtemp(prefix="kernelflow-artifacts-")
        os.makedirs(dst, exist_ok=True)
        rel = (path or "").strip("/")
        target = os.path.join(dst, os.path.basename(rel) or "artifacts")
        if rel and self._download_file(rel, target):
            return target
        entries = self.list_artifacts(rel or None)
        if not entries and rel:
            raise ResourceNotFoundError(f"No artifact {path!r} in this run; see list_artifacts().")
        os.makedirs(target, exist_ok=True)
        for entry in entries:
            sub = os.path.join(target, os.path.basename(entry.path))
            if entry.is_dir:
                self.download_artifacts(entry.path, target)
            else:
                self._download_file(entry.path, sub)
        return target

    def _download_file(self, rel: str, local: str) -> bool:
        resp = self.session.get(self._url(self._join(rel)), stream=True, timeout=TIMEOUT_S)
        if resp.status_code == 404:
            resp.close()
            return False
        self._check(resp)
        with open(local, "wb") as f:
            for chunk in resp.iter_content(1024 * 1024):
                f.write(chunk)
        return True


def _check_relative(path: str | None) -> None:
    if path and (path.startswith("/") or ".." in path.replace("\\", "/").split("/")):
        raise InvalidParameterError(
            f"Artifact path {path!r} is not allowed: use a relative path with no '..' parts."
        )
