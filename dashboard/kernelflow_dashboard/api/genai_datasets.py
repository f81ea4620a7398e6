"""MLflow's evaluation-dataset endpoints (``/api/3.0/mlflow/datasets/...``).

These are what ``mlflow.genai.datasets`` (``create_dataset``, ``get_dataset``,
``search_datasets``, ``EvaluationDataset.merge_records`` / ``to_df``, tags,
experiments) calls on a tracking server. Tags travel as a JSON string and records
as a JSON string of a list, as in MLflow's protos. Everything goes through the
public ``Client`` methods for evaluation datasets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import tornado.web

from kernelflow.errors import InvalidParameterError

from .base import ApiError, BaseHandler, run_blocking
from .request import Params
from .service import Api

PREFIXES = (r"/api/3\.0/mlflow/datasets", r"/ajax-api/3\.0/mlflow/datasets")


def _json_field(p: Params, name: str, required: bool = False) -> Any:
    text = p.text(name)
    if text is None or text == "":
        if required:
            raise InvalidParameterError(f"Missing value for required parameter '{name}'.")
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidParameterError(f"'{name}' must be a JSON string, got {text[:80]!r}.") from None


def dataset_message(d: dict) -> dict:
    """A ``Dataset`` message (tags as a JSON string, ids as strings)."""
    out = {k: d.get(k) for k in ("dataset_id", "name", "schema", "profile", "digest",
                                 "created_time", "last_update_time", "created_by",
                                 "last_updated_by")}
    out["tags"] = json.dumps(d.get("tags") or {})
    out["experiment_ids"] = [str(e) for e in d.get("experiment_ids") or []]
    return {k: v for k, v in out.items() if v is not None}


def _create(api: Api, p: Params, _: dict) -> dict:
    d = api.client.create_dataset(p.need("name"), p.many("experiment_ids") or None,
                                  _json_field(p, "tags"))
    return {"dataset": dataset_message(d)}


def _get(api: Api, p: Params, path: dict) -> dict:
    return {"dataset": dataset_message(api.client.get_dataset(path["dataset_id"]))}


def _delete(api: Api, p: Params, path: dict) -> dict:
    api.client.delete_dataset(path["dataset_id"])
    return {}


def _search(api: Api, p: Params, _: dict) -> dict:
    found, token = api.client.search_datasets(
        p.many("experiment_ids") or None, p.text("filter_string") or None,
        p.integer("max_results") or 1000, p.many("order_by") or None,
        p.text("page_token") or None)
    out: dict = {"datasets": [dataset_message(d) for d in found]}
    if token:
        out["next_page_token"] = token
    return out


def _set_tags(api: Api, p: Params, path: dict) -> dict:
    tags = _json_field(p, "tags", required=True)
    if not isinstance(tags, dict):
        raise InvalidParameterError("'tags' must be a JSON object of key/values.")
    api.client.set_dataset_tags(path["dataset_id"], tags)
    return {}


def _delete_tag(api: Api, p: Params, path: dict) -> dict:
    api.client.delete_dataset_tag(path["dataset_id"], path["key"])
    return {}


def _upsert(api: Api, p: Params, path: dict) -> dict:
    records = _json_field(p, "records", required=True)
    if not isinstance(records, list):
        raise InvalidParameterError("'records' must be a JSON list of records.")
    counts = api.client.upsert_dataset_records(path["dataset_id"], records)
    return {"inserted_count": counts["inserted"], "updated_count": counts["updated"]}


def _records(api: Api, p: Params, path: dict) -> dict:
    records, token = api.client.get_dataset_records(
        path["dataset_id"], p.integer("max_results") or 1000, p.text("page_token") or None)
    out: dict = {"records": json.dumps(records)}
    if token:
        out["next_page_token"] = token
    return out


def _delete_records(api: Api, p: Params, path: dict) -> dict:
    n = api.client.delete_dataset_records(path["dataset_id"], p.many("dataset_record_ids"))
    return {"deleted_count": n}


def _experiment_ids(api: Api, p: Params, path: dict) -> dict:
    return {"experiment_ids": api.client.get_dataset_experiment_ids(path["dataset_id"])}


def _versions(api: Api, p: Params, path: dict) -> dict:
    # kernelflow's addition: every digest the dataset has had
    return {"versions": api.client.get_dataset_versions(path["dataset_id"])}


def _version_records(api: Api, p: Params, path: dict) -> dict:
    records = api.client.get_dataset_version_records(path["dataset_id"], path["digest"])
    return {"records": json.dumps(records)}


def _add_experiments(api: Api, p: Params, path: dict) -> dict:
    d = api.client.add_dataset_to_experiments(path["dataset_id"], p.many("experiment_ids"))
    return {"dataset": dataset_message(d)}


def _remove_experiments(api: Api, p: Params, path: dict) -> dict:
    d = api.client.remove_dataset_from_experiments(path["dataset_id"], p.many("experiment_ids"))
    return {"dataset": dataset_message(d)}


_ID = r"(?P<dataset_id>[^/]+)"
Endpoint = Callable[[Api, Params, dict], dict]
ENDPOINTS: list[tuple[re.Pattern, str, Endpoint]] = [
    (re.compile(r"create"), "POST", _create),
    (re.compile(r"search"), "POST", _search),
    (re.compile(_ID), "GET", _get),
    (re.compile(_ID), "DELETE", _delete),
    (re.compile(_ID + r"/tags"), "PATCH", _set_tags),
    (re.compile(_ID + r"/tags/(?P<key>.+)"), "DELETE", _delete_tag),
    (re.compile(_ID + r"/records"), "POST", _upsert),
    (re.compile(_ID + r"/records"), "GET", _records),
    (re.compile(_ID + r"/records"), "DELETE", _delete_records),
    (re.compile(_ID + r"/experiment-ids"), "GET", _experiment_ids),
    (re.compile(_ID + r"/versions"), "GET", _versions),
    (re.compile(_ID + r"/versions/(?P<digest>[^/]+)"), "GET", _version_records),
    (re.compile(_ID + r"/add-experiments"), "POST", _add_experiments),
    (re.compile(_ID + r"/remove-experiments"), "POST", _remove_experiments),
]


def find(path: str, method: str) -> tuple[Endpoint | None, dict, bool]:
    """The endpoint for ``path`` (under ``datasets/``) and ``method``; and whether the path
    exists for another method."""
    exists = False
    for pattern, verb, fn in ENDPOINTS:
        m = pattern.fullmatch(path)
        if m:
            if verb == method:
                return fn, m.groupdict(), True
            exists = True
    return None, {}, exists


class GenAIDatasetHandler(BaseHandler):
    """``/api/3.0/mlflow/datasets/<path>``: dispatches to the functions above."""

    api: Api

    async def _dispatch(self, path: str) -> None:
        fn, fields, exists = find(path.strip("/"), self.request.method)
        if fn is None:
            if exists:
                raise ApiError(405, "ENDPOINT_NOT_FOUND",
                               f"{self.request.method} is not allowed on {self.request.path}.")
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API endpoint {self.request.path}.")
        self.write_json(await run_blocking(fn, self.api, self.params(), fields))

    get = post = patch = delete = _dispatch


def routes(api: Api, security: Any) -> list[tuple[str, type[tornado.web.RequestHandler], dict]]:
    """The URL patterns to mount (REST and ajax prefixes)."""
    kw = {"api": api, "security": security}
    return [(pre + r"/(.*)", GenAIDatasetHandler, kw) for pre in PREFIXES]
