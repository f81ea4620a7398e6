"""Model URIs: parse them and turn them into a local model directory.

Accepted forms (MLflow's)::

    runs:/<run_id>/<path>        a model logged in a run
    models:/<name>/<version>     a registered version, e.g. models:/iris/3
    models:/<name>@<alias>       the version an alias points at
    models:/<name>/<stage>       the newest version in Staging / Production / ...
    models:/<name>/latest        the newest version
    models:/<model_id>           an MLflow 3 logged model (e.g. logged by the mlflow client)
    file:///abs/path, /abs/path, relative/path
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import InvalidParameterError, ResourceNotFoundError

STAGES = ("None", "Staging", "Production", "Archived")


@dataclass(frozen=True)
class ModelURI:
    """A parsed model URI; ``kind`` is ``runs``, ``models`` or ``path``."""

    kind: str
    uri: str
    run_id: str | None = None
    path: str | None = None
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    stage: str | None = None
    latest: bool = False
    model_id: str | None = None


def parse_model_uri(uri: str) -> ModelURI:
    """Split a model URI into its parts.

    Raises:
        InvalidParameterError: the URI is malformed or uses an unsupported scheme.
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidParameterError(f"A model URI must be a non-empty string, not {uri!r}.")
    if uri.startswith("runs:"):
        return _parse_runs(uri)
    if uri.startswith("models:"):
        return _parse_models(uri)
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return ModelURI("path", uri, path=unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # a Windows drive letter is not a scheme
        raise InvalidParameterError(
            f"Unsupported model URI scheme {parsed.scheme!r} in {uri!r}. Use runs:/, "
            "models:/, file:// or a local path."
        )
    return ModelURI("path", uri, path=os.path.expanduser(uri))


def _parse_runs(uri: str) -> ModelURI:
    rest = uri[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterError(
            f"Malformed run URI {uri!r}; write runs:/<run_id>/<path inside the run>."
        )
    return ModelURI("runs", uri, run_id=run_id, path=path.strip("/"))


def _parse_models(uri: str) -> ModelURI:
    rest = uri[len("models:") :].lstrip("/")
    usage = (
        f"Malformed model URI {uri!r}; write models:/<name>/<version>, models:/<name>@<alias>, "
        "models:/<name>/<stage> or models:/<name>/latest."
    )
    if "@" in rest:
        name, _, alias = rest.rpartition("@")
        if not name or not alias or "/" in alias:
            raise InvalidParameterError(usage)
        return ModelURI("models", uri, name=name, alias=alias)
    if rest and "/" not in rest:  # MLflow 3: models:/<model_id>
        return ModelURI("logged_model", uri, model_id=rest)
    name, _, suffix = rest.rpartition("/")
    if not name or not suffix:
        raise InvalidParameterError(usage)
    if suffix.isdigit():
        return ModelURI("models", uri, name=name, version=suffix)
    if suffix.lower() == "latest":
        return ModelURI("models", uri, name=name, latest=True)
    stage = next((s for s in STAGES if s.lower() == suffix.lower()), None)
    if stage is None:
        raise InvalidParameterError(
            f"{suffix!r} in {uri!r} is neither a version number, a stage "
            f"({', '.join(STAGES)}) nor 'latest'. Use models:/{name}@{suffix} for an alias."
        )
    return ModelURI("models", uri, name=name, stage=stage)


def _client() -> Any:
    from ..client import default_client

    return default_client()


def resolve_model_version(uri: ModelURI, client: Any = None) -> Any:
    """Return the registry ModelVersion a ``models:/`` URI points at."""
    client = client or _client()
    name = uri.name or ""
    if uri.alias:
        return client.get_model_version_by_alias(name, uri.alias)
    if uri.version:
        return client.get_model_version(name, uri.version)
    stages = None if uri.latest else [uri.stage]
    found = client.get_latest_versions(name, stages=stages)
    if not found:
        where = "versions" if uri.latest else f"version in stage {uri.stage!r}"
        raise ResourceNotFoundError(f"Registered model {name!r} has no {where} ({uri.uri}).")
    return max(found, key=lambda v: int(v.version))


def resolve_local_path(uri: str, client: Any = None) -> str:
    """Return a local directory (or file) holding what ``uri`` names.

    Raises:
        ResourceNotFoundError: the run, registered model or path does not exist.
    """
    parsed = parse_model_uri(uri)
    if parsed.kind == "path":
        path = os.path.abspath(parsed.path or "")
        if not os.path.exists(path):
            raise ResourceNotFoundError(f"Nothing found at {path}: the path does not exist.")
        return path
    client = client or _client()
    if parsed.kind == "runs":
        return client.download_artifacts(parsed.run_id, parsed.path or "")
    if parsed.kind == "logged_model":
        return _logged_model_path(parsed, client)
    version = resolve_model_version(parsed, client)
    location = getattr(version, "storage_location", None)
    if location and os.path.exists(location):
        return location
    if not version.source:
        raise ResourceNotFoundError(f"{uri} (version {version.version}) has no source to load.")
    return resolve_local_path(version.source, client)


def _logged_model_path(uri: ModelURI, client: Any) -> str:
    getter = getattr(client, "get_logged_model", None)
    hint = (
        f"{uri.uri} names no logged model. For a registered model write "
        f"models:/{uri.model_id}/<version>, models:/{uri.model_id}@<alias> or "
        f"models:/{uri.model_id}/latest."
    )
    if getter is None:
        raise ResourceNotFoundError(hint)
    try:
        location = getter(uri.model_id).artifact_location
    except ResourceNotFoundError as exc:
        raise ResourceNotFoundError(hint) from exc
    return resolve_local_path(location, client)
