"""Registered model and model version endpoints (MLflow's ``ModelRegistryService``).

They call the registry methods of ``kernelflow.Client`` (MLflow's ``MlflowClient`` names).
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, unquote_plus, urlparse

from kernelflow.errors import InvalidParameterError, ResourceNotFoundError

from . import logged_models, shapes
from .request import Params
from .service import Api

MAX_SEARCH_RESULTS = 10_000
TRUSTED_SOURCES = ("runs:/", "models:/")  # resolved by the registry to stored locations
# MLflow's client appends this to every registry search to hide prompts. kernelflow has
# no prompts, and its filter treats `!=` on a missing tag as no match, so drop the clause.
_PROMPT_CLAUSE = re.compile(
    r"(?:^|\s+AND\s+)tags?\.(?:`mlflow\.prompt\.is_prompt`|mlflow\.prompt\.is_prompt)"
    r"\s*!=\s*'true'\s*$", re.I,
)


def _filter(p: Params) -> str | None:
    text = p.text("filter")
    return _PROMPT_CLAUSE.sub("", text).strip() or None if text else None


def _client(api: Api):
    client = api.client
    if not hasattr(client, "create_registered_model"):
        raise InvalidParameterError(
            "This kernelflow installation has no model registry yet (kernelflow.registry)."
        )
    return client


def _rm(api: Api, model) -> dict:
    return {"registered_model": shapes.registered_model(model, api.uris)}


def _mv(api: Api, version) -> dict:
    out = shapes.model_version(version, api.uris)
    model_id = api.client.logged_model_at(version.source) if version.source else None
    if model_id:
        out["model_id"] = model_id
    return {"model_version": out}


def _paged(key: str, items, convert) -> dict:
    out: dict = {key: [convert(x) for x in items]}
    token = getattr(items, "token", None)
    if token:
        out["next_page_token"] = token
    return out


def _max_results(p: Params, default: int) -> int:
    n = p.integer("max_results", default)
    if not 1 <= n <= MAX_SEARCH_RESULTS:
        raise InvalidParameterError(
            f"Invalid value {n} for parameter 'max_results': it must be between 1 and "
            f"{MAX_SEARCH_RESULTS}."
        )
    return n


# -- registered models -----------------------------------------------------------
def create_registered_model(api: Api, p: Params) -> dict:
    """POST registered-models/create."""
    model = _client(api).create_registered_model(
        p.need("name"), tags=p.tags() or None,
        description=p.text("description"),
    )
    return _rm(api, model)


def get_registered_model(api: Api, p: Params) -> dict:
    """GET registered-models/get."""
    return _rm(api, _client(api).get_registered_model(p.need("name")))


def search_registered_models(api: Api, p: Params) -> dict:
    """GET registered-models/search."""
    models = _client(api).search_registered_models(
        filter_string=_filter(p), max_results=_max_results(p, 100),
        order_by=p.many("order_by") or None, page_token=p.text("page_token"),
    )
    return _paged("registered_models", models, lambda m: shapes.registered_model(m, api.uris))


def update_registered_model(api: Api, p: Params) -> dict:
    """PATCH registered-models/update (description)."""
    model = _client(api).update_registered_model(p.need("name"), description=p.text("description"))
    return _rm(api, model or api.client.get_registered_model(p.need("name")))


def rename_registered_model(api: Api, p: Params) -> dict:
    """POST registered-models/rename."""
    new_name = p.need("new_name")
    model = _client(api).rename_registered_model(p.need("name"), new_name)
    return _rm(api, model or api.client.get_registered_model(new_name))


def delete_registered_model(api: Api, p: Params) -> dict:
    """DELETE registered-models/delete."""
    _client(api).delete_registered_model(p.need("name"))
    return {}


def get_latest_versions(api: Api, p: Params) -> dict:
    """POST (or GET) registered-models/get-latest-versions."""
    versions = _client(api).get_latest_versions(p.need("name"), stages=p.many("stages") or None)
    return {"model_versions": [shapes.model_version(v, api.uris) for v in versions]}


def set_registered_model_tag(api: Api, p: Params) -> dict:
    """POST registered-models/set-tag."""
    _client(api).set_registered_model_tag(p.need("name"), p.need("key"), p.text("value", ""))
    return {}


def delete_registered_model_tag(api: Api, p: Params) -> dict:
    """DELETE registered-models/delete-tag."""
    _client(api).delete_registered_model_tag(p.need("name"), p.need("key"))
    return {}


def set_alias(api: Api, p: Params) -> dict:
    """POST registered-models/alias."""
    _client(api).set_registered_model_alias(p.need("name"), p.need("alias"), str(p.need("version")))
    return {}


def delete_alias(api: Api, p: Params) -> dict:
    """DELETE registered-models/alias."""
    _client(api).delete_registered_model_alias(p.need("name"), p.need("alias"))
    return {}


def get_by_alias(api: Api, p: Params) -> dict:
    """GET registered-models/alias: a missing alias of an existing model is a 400, as MLflow
    answers (``Registered model alias ... not found``); a missing model stays a 404."""
    name, alias = p.need("name"), p.need("alias")
    try:
        return _mv(api, _client(api).get_model_version_by_alias(name, alias))
    except ResourceNotFoundError as exc:
        api.client.get_registered_model(name)
        raise InvalidParameterError(f"Registered model alias {alias} not found. ({exc})") from None


# -- model versions ----------------------------------------------------------------
def create_model_version(api: Api, p: Params) -> dict:
    """POST model-versions/create.

    A ``runs:/`` or ``models:/`` source is resolved by the registry; any other source must
    lie under the server's artifact root (``mlflow-artifacts:/...``, stored as a local
    path), so a client cannot register, then download, other server folders. A logged
    model's ``models:/<model_id>`` is stored as its local folder (so any client can load
    the version); the logged model then lists the new version among its registrations.
    """
    sent = p.need("source")
    source, model_id, model_run = logged_models.resolve_source(api, sent, p.text("model_id") or None)
    if source == sent:
        source = _checked_source(api, sent, p.text("run_id") or None)
    version = _client(api).create_model_version(
        p.need("name"), source, run_id=p.text("run_id") or model_run,
        tags=p.tags() or None, run_link=p.text("run_link"),
        description=p.text("description"),
    )
    if model_id:
        logged_models.record_registration(api, model_id, version.name, version.version)
    return _mv(api, version)


def _checked_source(api: Api, source: str, run_id: str | None = None) -> str:
    """A client's version source, checked.

    ``runs:/``/``models:/`` URIs (no ``..``) are resolved by the registry; a remote URI
    (``s3://``) is only a pointer the server never reads, as MLflow allows; a local path or
    ``file:`` URI inside the artifact folder of the request's ``run_id`` is kept as given
    (MLflow's rule); otherwise a local path, ``file:`` or ``mlflow-artifacts:`` URI must lie
    under the artifact root.
    """
    scheme = source.split("://", 1)[0] if "://" in source else None
    local = not source.startswith((*TRUSTED_SOURCES, "mlflow-artifacts:")) and scheme in (
        None, "file")
    if not local and _has_relative_parts(source):
        raise InvalidParameterError(
            f"Invalid model version source: '{source}'. If supplying a source as an http, "
            "https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute "
            "path must be provided without relative path references present. Please provide "
            "an absolute path.")
    if scheme and scheme not in ("file", "mlflow-artifacts"):
        return source
    if run_id and not source.startswith((*TRUSTED_SOURCES, "mlflow-artifacts:")):
        if _inside_run(api, source, run_id):
            return source
    if not source.startswith(TRUSTED_SOURCES):
        try:
            return api.uris.to_local(source, "Model version source")
        except InvalidParameterError as exc:
            raise InvalidParameterError(
                f"Invalid model version source: '{source}'. To use a local path as a model "
                "version source, the run_id request parameter has to be specified and the "
                "local path has to be contained within the artifact directory of the run "
                f"specified by the run_id. ({exc})") from None
    if ".." in source.replace("\\", "/").split("/"):
        raise InvalidParameterError(
            f"Model version source {source!r} is not allowed: '..' parts are refused.")
    return source


def _has_relative_parts(source: str) -> bool:
    """``..`` parts or a NUL, also when percent-encoded (MLflow's check on non-local sources)."""
    while (decoded := unquote_plus(source)) != source:
        source = decoded
    return "\x00" in source or ".." in source.replace("\\", "/").split("/")


def _inside_run(api: Api, source: str, run_id: str) -> bool:
    """Whether a local source lies in the run's (local) artifact folder."""
    def local(uri: str) -> str:
        return unquote(urlparse(uri).path) if uri.startswith("file:") else uri

    path, run_dir = local(source), local(api.client.get_run(run_id).info.artifact_uri)
    if "\x00" in path or not os.path.isabs(path) or not os.path.isabs(run_dir):
        return False
    real, base = os.path.realpath(path), os.path.realpath(run_dir)
    return real == base or real.startswith(base + os.sep)


def get_model_version(api: Api, p: Params) -> dict:
    """GET model-versions/get."""
    return _mv(api, _client(api).get_model_version(p.need("name"), str(p.need("version"))))


def search_model_versions(api: Api, p: Params) -> dict:
    """GET model-versions/search."""
    versions = _client(api).search_model_versions(
        filter_string=_filter(p), max_results=_max_results(p, 10_000),
        order_by=p.many("order_by") or None, page_token=p.text("page_token"),
    )
    return _paged("model_versions", versions, lambda v: shapes.model_version(v, api.uris))


def update_model_version(api: Api, p: Params) -> dict:
    """PATCH model-versions/update (description)."""
    name, version = p.need("name"), str(p.need("version"))
    updated = _client(api).update_model_version(name, version, description=p.text("description"))
    return _mv(api, updated or api.client.get_model_version(name, version))


def delete_model_version(api: Api, p: Params) -> dict:
    """DELETE model-versions/delete."""
    _client(api).delete_model_version(p.need("name"), str(p.need("version")))
    return {}


def transition_stage(api: Api, p: Params) -> dict:
    """POST model-versions/transition-stage."""
    version = _client(api).transition_model_version_stage(
        p.need("name"), str(p.need("version")), p.need("stage"),
        archive_existing_versions=p.flag("archive_existing_versions"),
    )
    return _mv(api, version)


def get_download_uri(api: Api, p: Params) -> dict:
    """GET model-versions/get-download-uri."""
    uri = _client(api).get_model_version_download_uri(p.need("name"), str(p.need("version")))
    return {"artifact_uri": api.uris.to_remote(uri)}


def set_model_version_tag(api: Api, p: Params) -> dict:
    """POST model-versions/set-tag."""
    _client(api).set_model_version_tag(
        p.need("name"), str(p.need("version")), p.need("key"), p.text("value", "")
    )
    return {}


def delete_model_version_tag(api: Api, p: Params) -> dict:
    """DELETE model-versions/delete-tag."""
    _client(api).delete_model_version_tag(p.need("name"), str(p.need("version")), p.need("key"))
    return {}
