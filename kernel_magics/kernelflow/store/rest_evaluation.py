"""Evaluation datasets over HTTP: MLflow's ``/api/3.0/mlflow/datasets/...`` for ``RestStore``.

The same method names and return shapes as :class:`~kernelflow.store.evaluation.
EvaluationDatasetStore`, so ``kf.genai.datasets`` works against a ``kernelflow ui``
server (or an MLflow 3 server) as on a local file.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ..errors import StoreError
from .rest_http import TIMEOUT_S, error_from_response


def _dataset(message: dict) -> dict:
    d = dict(message)
    try:
        d["tags"] = json.loads(d.get("tags") or "{}")
    except ValueError:
        d["tags"] = {}
    for key in ("created_time", "last_update_time"):
        if d.get(key) is not None:
            d[key] = int(d[key])
    d["experiment_ids"] = [str(e) for e in d.get("experiment_ids") or []]
    for key in ("schema", "profile", "digest", "created_by", "last_updated_by"):
        d.setdefault(key, None)
    return d


class RestEvaluationDatasetMixin:
    """Evaluation datasets against a tracking server."""

    uri: str
    session: Any

    def _datasets_call(self, method: str, path: str, body: dict | None = None) -> dict:
        import requests

        url = f"{self.uri}/api/3.0/mlflow/datasets/{path}"
        kwargs: dict[str, Any] = {"params": body} if method == "GET" else {"json": body or {}}
        try:
            resp = self.session.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            raise StoreError(f"Cannot reach the tracking server at {self.uri} "
                             f"({exc.__class__.__name__}).") from exc
        if resp.status_code != 200:
            raise error_from_response(resp.status_code, resp.text, url)
        return resp.json() if resp.content else {}

    def create_dataset(self, name: str, tags: dict | None = None,
                       experiment_ids: list[str] | None = None,
                       created_by: str | None = None) -> dict:
        """Create a dataset on the server."""
        tags = dict(tags or {})
        if created_by and "mlflow.user" not in tags:
            tags["mlflow.user"] = created_by
        body = {"name": name, "experiment_ids": list(experiment_ids or []),
                "tags": json.dumps(tags)}
        return _dataset(self._datasets_call("POST", "create", body)["dataset"])

    def get_dataset(self, dataset_id: str) -> dict:
        """A dataset by id."""
        return _dataset(self._datasets_call("GET", quote(dataset_id, safe=""))["dataset"])

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset."""
        self._datasets_call("DELETE", quote(dataset_id, safe=""))

    def search_datasets(self, experiment_ids=None, filter_string=None, max_results=1000,
                        order_by=None, page_token=None) -> tuple[list[dict], str | None]:
        """Datasets matching a filter, one page at a time."""
        body = {"experiment_ids": list(experiment_ids or []), "filter_string": filter_string,
                "max_results": max_results, "order_by": list(order_by or []),
                "page_token": page_token}
        out = self._datasets_call("POST", "search", {k: v for k, v in body.items()
                                                     if v not in (None, [])})
        return [_dataset(d) for d in out.get("datasets", [])], out.get("next_page_token")

    def upsert_dataset_records(self, dataset_id: str, records: list[dict],
                               updated_by: str | None = None) -> dict[str, int]:
        """Add or merge records."""
        out = self._datasets_call("POST", f"{quote(dataset_id, safe='')}/records",
                                  {"records": json.dumps(records, default=str)})
        return {"inserted": int(out.get("inserted_count", 0)),
                "updated": int(out.get("updated_count", 0))}

    def load_dataset_records(self, dataset_id: str, max_results: int | None = None,
                             page_token: str | None = None) -> tuple[list[dict], str | None]:
        """Records, all (paging through the server) or one page."""
        records: list[dict] = []
        token = page_token
        while True:
            body: dict[str, int | str] = {"max_results": max_results or 1000}
            if token:
                body["page_token"] = token
            out = self._datasets_call("GET", f"{quote(dataset_id, safe='')}/records", body)
            records += json.loads(out.get("records") or "[]")
            token = out.get("next_page_token") or None
            if max_results is not None or not token:
                return records, token

    def delete_dataset_records(self, dataset_id: str, record_ids: list[str]) -> int:
        """Delete records by id."""
        out = self._datasets_call("DELETE", f"{quote(dataset_id, safe='')}/records",
                                  {"dataset_record_ids": list(record_ids)})
        return int(out.get("deleted_count", 0))

    def set_dataset_tags(self, dataset_id: str, tags: dict) -> None:
        """Merge tags."""
        self._datasets_call("PATCH", f"{quote(dataset_id, safe='')}/tags",
                            {"tags": json.dumps(tags)})

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None:
        """Remove one tag."""
        self._datasets_call("DELETE", f"{quote(dataset_id, safe='')}/tags/{quote(key, safe='')}")

    def get_dataset_experiment_ids(self, dataset_id: str) -> list[str]:
        """The dataset's experiments."""
        out = self._datasets_call("GET", f"{quote(dataset_id, safe='')}/experiment-ids")
        return [str(e) for e in out.get("experiment_ids", [])]

    def set_dataset_experiments(self, dataset_id: str, add=(), remove=()) -> dict:
        """Add to and/or remove from experiments."""
        out: dict = {}
        if add:
            out = self._datasets_call("POST", f"{quote(dataset_id, safe='')}/add-experiments",
                                      {"experiment_ids": list(add)})
        if remove:
            out = self._datasets_call("POST", f"{quote(dataset_id, safe='')}/remove-experiments",
                                      {"experiment_ids": list(remove)})
        return _dataset(out["dataset"]) if out else self.get_dataset(dataset_id)

    def get_dataset_version_records(self, dataset_id: str, digest: str) -> list[dict]:
        """One version's records (a kernelflow server's addition to the API)."""
        out = self._datasets_call(
            "GET", f"{quote(dataset_id, safe='')}/versions/{quote(digest, safe='')}")
        return json.loads(out.get("records") or "[]")

    def list_dataset_versions(self, dataset_id: str) -> list[dict]:
        """Every digest the dataset has had (a kernelflow server's addition to the API)."""
        out = self._datasets_call("GET", f"{quote(dataset_id, safe='')}/versions")
        return list(out.get("versions", []))
