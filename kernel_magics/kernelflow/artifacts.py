"""Local artifact storage: files under each run's artifact directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import InvalidParameterError, ResourceNotFoundError, StoreError


@dataclass
class FileInfo:
    """One entry of an artifact listing (MLflow's shape)."""

    path: str
    is_dir: bool
    file_size: int | None


@contextmanager
def _writable(dest: str) -> Iterator[None]:
    """Turn a failed artifact write (read-only folder, full disk) into a clear StoreError."""
    try:
        yield
    except OSError as exc:
        raise StoreError(
            f"Cannot write the artifact to {dest}: {exc.strerror or exc}. Check that the folder "
            "is writable and the disk has space, or point KERNELFLOW_ARTIFACT_ROOT elsewhere."
        ) from exc


def safe_join(root: str, relative: str | None) -> str:
    """Join ``relative`` under ``root``, refusing anything that would leave it.

    Raises:
        InvalidParameterError: for absolute paths, ``..`` parts, or symlinks out of root.
    """
    if not relative:
        return root
    rel = relative.replace("\\", "/")
    if rel.startswith("/") or os.path.isabs(rel) or ".." in rel.split("/"):
        raise InvalidParameterError(
            f"Invalid path: artifact path {relative!r} is not allowed: use a relative path "
            "inside the run "
            "with no '..' parts, like 'plots/loss.png'."
        )
    path = os.path.normpath(os.path.join(root, rel))
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise InvalidParameterError(
            f"Invalid path: artifact path {relative!r} leaves the run's artifact folder.")
    return path


def log_file(artifact_dir: str, local_path: str, artifact_path: str | None = None) -> str:
    """Copy one file into the run's artifacts; return its artifact-relative path."""
    if not os.path.isfile(local_path):
        raise ResourceNotFoundError(
            f"Cannot log artifact {local_path!r}: no such file. "
            "Use log_artifacts() for a folder."
        )
    dest_dir = safe_join(artifact_dir, artifact_path)
    with _writable(dest_dir):
        os.makedirs(dest_dir, exist_ok=True)
        shutil.copy2(local_path, os.path.join(dest_dir, os.path.basename(local_path)))
    return "/".join(p for p in (artifact_path, os.path.basename(local_path)) if p)


def log_dir(artifact_dir: str, local_dir: str, artifact_path: str | None = None) -> None:
    """Copy a folder's contents into the run's artifacts."""
    if not os.path.isdir(local_dir):
        raise ResourceNotFoundError(
            f"Cannot log artifacts from {local_dir!r}: no such folder. Use log_artifact() for a file."
        )
    dest_dir = safe_join(artifact_dir, artifact_path)
    with _writable(dest_dir):
        shutil.copytree(local_dir, dest_dir, dirs_exist_ok=True)


def list_dir(artifact_dir: str, path: str | None = None) -> list[FileInfo]:
    """List one level of the run's artifacts, folders first."""
    base = safe_join(artifact_dir, path)
    if not os.path.isdir(base):
        return []
    out = []
    for entry in sorted(os.scandir(base), key=lambda e: (not e.is_dir(), e.name)):
        rel = "/".join(p for p in (path.strip("/") if path else None, entry.name) if p)
        is_dir = entry.is_dir()
        try:
            size = None if is_dir else entry.stat().st_size
        except OSError:  # a dangling symlink or a file removed meanwhile: not listed
            continue
        out.append(FileInfo(rel, is_dir, size))
    return out


def download(artifact_dir: str, path: str | None, dst_path: str | None) -> str:
    """Return a local path to the artifact, copying it under ``dst_path`` if given."""
    src = safe_join(artifact_dir, path)
    if not os.path.exists(src):
        raise ResourceNotFoundError(
            f"No artifact {path!r} in this run. List what exists with list_artifacts()."
        )
    if dst_path is None:
        return src
    os.makedirs(dst_path, exist_ok=True)
    dest = os.path.join(dst_path, os.path.basename(src.rstrip("/")) or "artifacts")
    if os.path.isdir(src):
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest)
    return dest


def local_folder(location: str) -> str:
    """The local folder of an artifact location: a path, or a ``file:`` URI as a path.

    Raises:
        InvalidStateError: for a remote URI (``s3://...``, ``mlflow-artifacts:/...``), which
            an MLflow client set as the experiment's location: it is not on this machine.
    """
    if location.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(location).path)
    head = location.split("/", 1)[0]
    if head.endswith(":") and len(head) > 2:  # a scheme, not a Windows drive letter
        from .errors import InvalidStateError

        raise InvalidStateError(
            f"The artifacts at {location!r} are not in a local folder: the experiment's "
            "artifact location was set to a remote URI. Read and write them with a client for "
            "that store (MLflow's client does so), or use an experiment with a local location.")
    return location


class LocalArtifactRepository:
    """The artifacts of one run, in a local folder.

    The HTTP store provides a repository with the same methods that talks to a
    server's ``/api/2.0/mlflow-artifacts/`` endpoints.
    """

    def __init__(self, root: str) -> None:
        self.root = local_folder(root)

    def log_artifact(self, local_path: str, artifact_path: str | None = None) -> str:
        """Copy one file in; return its path relative to the run's artifacts."""
        return log_file(self.root, local_path, artifact_path)

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a folder's contents in."""
        log_dir(self.root, local_dir, artifact_path)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List one level under ``path``."""
        return list_dir(self.root, path)

    def download_artifacts(self, path: str | None = None, dst_path: str | None = None) -> str:
        """Return a local path to the artifact (copied under ``dst_path`` if given)."""
        return download(self.root, path, dst_path)

    def local_path(self, path: str | None = None) -> str:
        """The local path an artifact is (or would be) stored at."""
        return safe_join(self.root, path)
