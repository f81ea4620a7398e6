"""MLflow 3's logged models over HTTP: the logged-model half of :class:`RestStore`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import codec
from ..errors import KernelflowError
from .logged_models import LoggedModel, LoggedModelMetric


class RestLoggedModelMixin:
    """Logged models through a kernelflow (or MLflow) server's ``logged-models`` endpoints."""

    call: Any  # RestTransport.call

    def create_logged_model(self, experiment_id, name: str | None = None,
                            source_run_id: str | None = None, model_type: str | None = None,
                            tags: dict[str, str] | None = None,
                            params: dict[str, str] | None = None) -> LoggedModel:
        body = {"experiment_id": str(experiment_id), "name": name, "source_run_id": source_run_id,
                "model_type": model_type, "tags": codec.kv_list(tags),
                "params": codec.kv_list(params)}
        data = self.call("POST", "logged-models", {k: v for k, v in body.items() if v})
        return codec.logged_model_from_json(data["model"])

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        path = f"logged-models/{quote(model_id, safe='')}"
        body = {"allow_deleted": "true"} if allow_deleted else None
        return codec.logged_model_from_json(self.call("GET", path, body)["model"])

    def search_logged_models(self, experiment_ids: list, filter_string: str | None = None,
                             max_results: int = 100, order_by: list[dict] | None = None,
                             page_token: str | None = None, datasets: list[dict] | None = None,
                             ) -> tuple[list[LoggedModel], str | None]:
        body = {"experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string,
                "max_results": max_results, "order_by": order_by, "page_token": page_token,
                "datasets": datasets or None}
        data = self.call("POST", "logged-models/search",
                         {k: v for k, v in body.items() if v is not None})
        return ([codec.logged_model_from_json(m) for m in data.get("models", [])],
                data.get("next_page_token"))

    def finalize_logged_model(self, model_id: str, status: str,
                              status_message: str | None = None) -> LoggedModel:
        body = {"status": codec.LOGGED_MODEL_STATUS_OUT.get(status, status)}
        data = self.call("PATCH", f"logged-models/{quote(model_id, safe='')}", body)
        return codec.logged_model_from_json(data["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self.call("DELETE", f"logged-models/{quote(model_id, safe='')}")

    def set_logged_model_tags(self, model_id: str, tags: dict[str, str]) -> None:
        self.call("PATCH", f"logged-models/{quote(model_id, safe='')}/tags",
                  {"tags": codec.kv_list(tags)})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.call("DELETE", f"logged-models/{quote(model_id, safe='')}/tags/{quote(key, safe='')}")

    def log_logged_model_params(self, model_id: str, params: dict[str, str]) -> None:
        self.call("POST", f"logged-models/{quote(model_id, safe='')}/params",
                  {"params": codec.kv_list(params)})

    def log_logged_model_metrics(self, model_id: str, metrics: list[LoggedModelMetric]) -> None:
        by_run: dict[str, list[dict]] = {}
        for m in metrics:
            if not m.run_id:
                raise KernelflowError(
                    "Over HTTP a logged model's metric is logged through its run: give each "
                    "LoggedModelMetric a run_id.")
            by_run.setdefault(m.run_id, []).append(codec.drop_none({
                "key": m.key, "value": codec.metric_json(m.value), "timestamp": m.timestamp,
                "step": m.step, "model_id": model_id, "dataset_name": m.dataset_name,
                "dataset_digest": m.dataset_digest}))
        for run_id, batch in by_run.items():
            self.call("POST", "runs/log-batch", {"run_id": run_id, "metrics": batch})

    def log_model_outputs(self, run_id: str, outputs: list[tuple[str, int]]) -> None:
        self.call("POST", "runs/outputs", {"run_id": run_id, "models": [
            {"model_id": m, "step": s} for m, s in outputs]})

    def get_model_outputs(self, run_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {}
        for run_id in run_ids:
            run = self.call("GET", "runs/get", {"run_id": run_id}).get("run", {})
            items = run.get("outputs", {}).get("model_outputs", [])
            if items:
                out[run_id] = [(i["model_id"], int(i.get("step", 0))) for i in items]
        return out

    def model_outputs(self, run_id: str) -> list[tuple[str, int]]:
        return self.get_model_outputs([run_id]).get(run_id, [])

    def logged_model_at(self, location: str) -> str | None:
        """Over HTTP a model's files are on the server; a local path names no logged model."""
        return None
