"""Artifact endpoints: ``/api/2.0/mlflow-artifacts/artifacts`` (upload, download, list,
delete) rooted at the server's artifact root, and run-based listing and download.

Every path goes through ``kernelflow.artifacts.safe_join``: absolute paths, ``..``
parts and symlinks that lead out of the root are refused with 400.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile

import tornado.web

from kernelflow.artifacts import list_dir, safe_join
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError

from . import shapes
from .base import ApiError, BaseHandler, run_blocking
from .request import Params
from .service import Api

MAX_ARTIFACT_BYTES = int(os.environ.get("KERNELFLOW_MAX_ARTIFACT_BYTES", 4 * 1024**3))
CHUNK = 1024 * 1024


def _safe(root: str, path: str | None) -> str:
    if path and "\x00" in path:
        raise InvalidParameterError("Artifact paths may not contain NUL characters.")
    return safe_join(root, path)


def listed(path: str) -> str | None:
    """Return a folder to list, relative (an absolute path is a 400, as for the other artifact
    calls, not a silent listing of a same-named folder under the root)."""
    if path.startswith("/") or os.path.isabs(path):
        raise InvalidParameterError(
            f"Invalid path: artifact path {path!r} is not allowed: use a path relative to the "
            "artifact root, like '1/<run_id>/artifacts'.")
    if "\x00" in path:
        raise InvalidParameterError("Artifact paths may not contain NUL characters.")
    return path.rstrip("/") or None


def list_run_artifacts(api: Api, p: Params) -> dict:
    """GET artifacts/list?run_id=&path=: one level of a run's artifacts (under the root only)."""
    info = api.client.get_run(p.need("run_id", "run_uuid")).info
    files = list_dir(api.uris.readable(info.artifact_uri, f"artifacts of run {info.run_id}"),
                     listed(p.text("path") or ""))
    return {"root_uri": api.uris.to_remote(info.artifact_uri),
            "files": [shapes.file_info(f) for f in files]}


def check_serving(handler: BaseHandler, api: Api) -> None:
    """Answer 503 as MLflow's server does when run with ``--no-serve-artifacts``."""
    if not api.uris.serve_artifacts:
        raise ApiError(503, "ENDPOINT_NOT_FOUND",
                       f"Endpoint: {handler.request.path} disabled due to the server running "
                       "with `--no-serve-artifacts`. To enable artifacts server functionality, "
                       "run `kernelflow ui` with `--serve-artifacts`.")


class ArtifactListHandler(BaseHandler):
    """GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>: names one level down."""

    api: Api

    async def get(self) -> None:
        check_serving(self, self.api)
        path = listed(self.get_query_argument("path", ""))
        files = await run_blocking(list_dir, _check_dir(self.api.uris.root), path)
        self.write_json({"files": [shapes.file_info(f, basename_only=True) for f in files]})


def _check_size(n: int) -> None:
    if n > MAX_ARTIFACT_BYTES:
        raise ApiError(413, "INVALID_PARAMETER_VALUE",
                       f"Artifact too large: {n} bytes; this server takes at most "
                       f"{MAX_ARTIFACT_BYTES} (KERNELFLOW_MAX_ARTIFACT_BYTES).")


def _check_dir(root: str) -> str:
    os.makedirs(root, exist_ok=True)
    return root


@tornado.web.stream_request_body
class ArtifactHandler(BaseHandler):
    """GET (download), PUT (upload, streamed to disk) and DELETE one artifact path."""

    api: Api

    def prepare(self) -> None:
        super().prepare()
        self._tmp = None
        check_serving(self, self.api)
        if self.request.method == "PUT":
            self._received = 0
            _check_size(int(self.request.headers.get("Content-Length") or 0))
            self.request.connection.set_max_body_size(MAX_ARTIFACT_BYTES + 1)
            self._target = _safe(self.api.uris.root, self.path_kwargs["path"])
            if os.path.isdir(self._target):
                raise InvalidParameterError(f"{self.path_kwargs['path']!r} is a folder.")
            os.makedirs(os.path.dirname(self._target), exist_ok=True)
            self._tmp = tempfile.NamedTemporaryFile(
                dir=os.path.dirname(self._target), prefix=".upload-", delete=False
            )

    def data_received(self, chunk: bytes) -> None:
        if self._tmp is None:
            return  # GET/DELETE take no body: ignore it (raising here drops the connection)
        self._received += len(chunk)
        if self._received > MAX_ARTIFACT_BYTES:
            self._discard()
            _check_size(self._received)
        self._tmp.write(chunk)

    async def put(self, path: str) -> None:
        tmp, self._tmp = self._tmp, None
        tmp.close()
        # The target was checked in prepare(); check again in case a symlink appeared since.
        target = _safe(self.api.uris.root, path)
        os.replace(tmp.name, target)
        self.write_json({})

    def on_finish(self) -> None:
        self._discard()

    def on_connection_close(self) -> None:
        self._discard()

    def _discard(self) -> None:
        tmp, self._tmp = getattr(self, "_tmp", None), None
        if tmp is not None:
            tmp.close()
            try:
                os.unlink(tmp.name)
            except FileNotFoundError:
                pass

    async def get(self, path: str) -> None:
        await send_file(self, _safe(self.api.uris.root, path), path)

    async def delete(self, path: str) -> None:
        target = _safe(self.api.uris.root, path)
        if os.path.realpath(target) == os.path.realpath(self.api.uris.root):
            raise InvalidParameterError("Refusing to delete the whole artifact root.")
        if os.path.isdir(target) and not os.path.islink(target):
            await run_blocking(shutil.rmtree, target)
        elif os.path.lexists(target):
            os.unlink(target)
        self.write_json({})


class RunArtifactHandler(BaseHandler):
    """GET /get-artifact?run_id=&path=: one file of a run (for the UI's previews)."""

    api: Api

    async def get(self) -> None:
        run_id = self.get_query_argument("run_id", "") or self.get_query_argument("run_uuid", "")
        path = self.get_query_argument("path", "")
        if not run_id or not path:
            raise InvalidParameterError("Pass both run_id and path, like ?run_id=...&path=a.txt.")
        info = (await run_blocking(self.api.client.get_run, run_id)).info
        root = self.api.uris.readable(info.artifact_uri, f"artifacts of run {run_id}")
        await send_file(self, _safe(root, path), path)


async def send_file(handler: BaseHandler, local: str, shown: str) -> None:
    """Stream a file in 1 MiB chunks; a folder or a missing file is an MLflow error."""
    if not os.path.isfile(local):
        raise ResourceNotFoundError(f"No artifact file at {shown!r}.")
    kind, encoding = mimetypes.guess_type(local)
    if kind in (None, "text/html", "image/svg+xml", "application/xhtml+xml") or encoding:
        kind = "application/octet-stream"  # never let the browser run stored HTML or SVG
    handler.set_header("Content-Type", kind)
    handler.set_header("Content-Disposition",
                       f"attachment; filename=\"{os.path.basename(local).replace(chr(34), '')}\"")
    handler.set_header("Content-Length", str(os.path.getsize(local)))
    with open(local, "rb") as f:
        while chunk := f.read(CHUNK):
            handler.write(chunk)
            await handler.flush()
    handler.finish()


MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # MLflow's limit for the UI's upload-artifact


class UploadArtifactHandler(BaseHandler):
    """POST /ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=: the body becomes one file of
    the run's artifacts (MLflow's web UI call; at most 10 MB, as MLflow)."""

    api: Api

    async def post(self) -> None:
        run_id = self.get_query_argument("run_uuid", "") or self.get_query_argument("run_id", "")
        if not run_id:
            raise InvalidParameterError("Request must specify run_uuid.")
        path = self.get_query_argument("path", "")
        if not path:
            raise InvalidParameterError("Request must specify path.")
        safe_join(self.api.uris.root, path)  # MLflow checks the path before the data
        data = self.request.body
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidParameterError("Artifact size is too large. Max size is 10MB.")
        if not data:
            raise InvalidParameterError("Request must specify data.")
        info = (await run_blocking(self.api.client.get_run, run_id)).info
        root = self.api.uris.readable(info.artifact_uri, f"artifacts of run {run_id}")
        target = _safe(root, path)
        if os.path.isdir(target):
            raise InvalidParameterError(f"{path!r} is a folder.")
        await run_blocking(_write, target, data)
        self.write_json({})


def _write(target: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(target), prefix=".upload-",
                                     delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, target)


class LoggedModelArtifactHandler(BaseHandler):
    """GET /ajax-api/2.0/mlflow/logged-models/<model_id>/artifacts/files?artifact_file_path=:
    one file of a logged model (MLflow's web UI call)."""

    api: Api

    async def get(self, model_id: str) -> None:
        path = self.get_query_argument("artifact_file_path", "")
        if not path:
            raise ApiError(400, "BAD_REQUEST",
                           'Request must include the "artifact_file_path" query parameter.')
        model = await run_blocking(self.api.client.get_logged_model, model_id)
        root = self.api.uris.readable(model.artifact_location,
                                      f"artifacts of logged model {model_id}")
        await send_file(self, _safe(root, path), path)


class ModelVersionArtifactHandler(BaseHandler):
    """GET /model-versions/get-artifact?name=&version=&path=: one file of a registered model
    version (MLflow's web UI call), served only from under the artifact root."""

    api: Api

    async def get(self) -> None:
        name = self.get_query_argument("name", "")
        version = self.get_query_argument("version", "")
        path = self.get_query_argument("path", "")
        if not name or not version or not path:
            raise InvalidParameterError(
                "Pass name, version and path, like ?name=iris&version=1&path=MLmodel.")
        uri = await run_blocking(self.api.client.get_model_version_download_uri, name, version)
        root = self.api.uris.readable(uri, f"artifacts of model {name!r} version {version}")
        await send_file(self, _safe(root, path), path)
