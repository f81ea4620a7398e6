"""The model registry over HTTP: the registry half of :class:`~kernelflow.store.rest.RestStore`."""

from __future__ import annotations

from typing import Any

from .. import codec
from ..entities import ModelLabelChange, ModelVersion, RegisteredModel
from ..errors import ResourceExistsError

_kv, _kv_dict = codec.kv_list, codec.kv_dict
_version, _model = codec.model_version_from_json, codec.registered_model_from_json


def _int(value) -> int | None:
    return None if value is None else int(value)


class RestRegistryMixin:
    """The registry half of :class:`RestStore` (the registry store's method names)."""

    call: Any

    def create_registered_model(self, name: str, tags: dict | None = None,
                                description: str | None = None) -> RegisteredModel:
        body = {"name": name, "tags": _kv(tags), "description": description}
        return _model(self.call("POST", "registered-models/create", body)["registered_model"])

    def get_or_create_registered_model(self, name: str) -> bool:
        """Create the model unless it exists; return True if it was created."""
        try:
            self.create_registered_model(name)
        except ResourceExistsError:
            return False
        return True

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _model(self.call("GET", "registered-models/get", {"name": name})["registered_model"])

    def search_registered_models(self, filter_string: str | None = None, max_results: int = 100,
                                 order_by: list[str] | None = None, page_token: str | None = None):
        body = {"filter": filter_string, "max_results": max_results, "order_by": order_by,
                "page_token": page_token}
        data = self.call("GET", "registered-models/search", body)
        return [_model(m) for m in data.get("registered_models", [])], data.get("next_page_token")

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        data = self.call("PATCH", "registered-models/update",
                         {"name": name, "description": description})
        return _model(data["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        data = self.call("POST", "registered-models/rename", {"name": name, "new_name": new_name})
        return _model(data["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self.call("DELETE", "registered-models/delete", {"name": name})

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self.call("POST", "registered-models/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.call("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: dict | None = None, run_link: str | None = None,
                             description: str | None = None, user_id: str | None = None,
                             storage_location: str | None = None) -> ModelVersion:
        body = {"name": name, "source": source, "run_id": run_id, "tags": _kv(tags),
                "run_link": run_link, "description": description}
        return _version(self.call("POST", "model-versions/create", body)["model_version"])

    def get_model_version(self, name: str, version) -> ModelVersion:
        data = self.call("GET", "model-versions/get", {"name": name, "version": str(version)})
        return _version(data["model_version"])

    def search_model_versions(self, filter_string: str | None = None, max_results: int = 10_000,
                              order_by: list[str] | None = None, page_token: str | None = None):
        body = {"filter": filter_string, "max_results": max_results, "order_by": order_by,
                "page_token": page_token}
        data = self.call("GET", "model-versions/search", body)
        return [_version(v) for v in data.get("model_versions", [])], data.get("next_page_token")

    def update_model_version(self, name: str, version, description: str | None) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return _version(self.call("PATCH", "model-versions/update", body)["model_version"])

    def delete_model_version(self, name: str, version) -> None:
        self.call("DELETE", "model-versions/delete", {"name": name, "version": str(version)})

    def set_model_version_tag(self, name: str, version, key: str, value: str) -> None:
        self.call("POST", "model-versions/set-tag",
                  {"name": name, "version": str(version), "key": key, "value": value})

    def delete_model_version_tag(self, name: str, version, key: str) -> None:
        self.call("DELETE", "model-versions/delete-tag",
                  {"name": name, "version": str(version), "key": key})

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        data = self.call("POST", "registered-models/get-latest-versions",
                         {"name": name, "stages": stages or []})
        return [_version(v) for v in data.get("model_versions", [])]

    def transition_model_version_stage(self, name: str, version, stage: str,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        body = {"name": name, "version": str(version), "stage": stage,
                "archive_existing_versions": bool(archive_existing_versions)}
        return _version(self.call("POST", "model-versions/transition-stage", body)["model_version"])

    def set_registered_model_alias(self, name: str, alias: str, version) -> None:
        self.call("POST", "registered-models/alias",
                  {"name": name, "alias": alias, "version": str(version)})

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        data = self.call("GET", "registered-models/alias", {"name": name, "alias": alias})
        return _version(data["model_version"])

    def get_model_label_history(self, name: str, kind: str | None = None,
                                label: str | None = None) -> list[ModelLabelChange]:
        """Alias/stage history from kernelflow's extension endpoint (not MLflow's API)."""
        body = {"name": name, "kind": kind, "label": label}
        data = self.call("GET", "registered-models/label-history",
                         {k: v for k, v in body.items() if v is not None}, prefix="kernelflow")
        return [ModelLabelChange(h["name"], h["kind"], h["label"], str(h["version"]),
                                 int(h["start_time"]), _int(h.get("end_time")))
                for h in data.get("history", [])]
