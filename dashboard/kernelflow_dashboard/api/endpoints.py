"""The endpoint table: (path under ``/api/2.0/mlflow/``, HTTP method) -> function."""

from __future__ import annotations

from collections.abc import Callable

from . import metrics, registry, tracking
from .artifacts import list_run_artifacts

Endpoint = Callable[..., dict]

ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("experiments/create", "POST"): tracking.create_experiment,
    ("experiments/get", "GET"): tracking.get_experiment,
    ("experiments/get-by-name", "GET"): tracking.get_experiment_by_name,
    ("experiments/search", "POST"): tracking.search_experiments,
    ("experiments/search", "GET"): tracking.search_experiments,
    ("experiments/update", "POST"): tracking.update_experiment,
    ("experiments/delete", "POST"): tracking.delete_experiment,
    ("experiments/restore", "POST"): tracking.restore_experiment,
    ("experiments/set-experiment-tag", "POST"): tracking.set_experiment_tag,
    ("runs/create", "POST"): tracking.create_run,
    ("runs/get", "GET"): tracking.get_run,
    ("runs/update", "POST"): tracking.update_run,
    ("runs/delete", "POST"): tracking.delete_run,
    ("runs/restore", "POST"): tracking.restore_run,
    ("runs/search", "POST"): tracking.search_runs,
    ("runs/log-metric", "POST"): tracking.log_metric,
    ("runs/log-parameter", "POST"): tracking.log_param,
    ("runs/set-tag", "POST"): tracking.set_tag,
    ("runs/delete-tag", "POST"): tracking.delete_tag,
    ("runs/log-batch", "POST"): tracking.log_batch,
    ("metrics/get-history", "GET"): metrics.get_history,
    ("metrics/get-history-bulk-interval", "GET"): metrics.get_history_bulk_interval,
    ("artifacts/list", "GET"): list_run_artifacts,
    ("logged-models/search", "POST"): tracking.search_logged_models,
    ("registered-models/create", "POST"): registry.create_registered_model,
    ("registered-models/get", "GET"): registry.get_registered_model,
    ("registered-models/search", "GET"): registry.search_registered_models,
    ("registered-models/update", "PATCH"): registry.update_registered_model,
    ("registered-models/rename", "POST"): registry.rename_registered_model,
    ("registered-models/delete", "DELETE"): registry.delete_registered_model,
    ("registered-models/get-latest-versions", "POST"): registry.get_latest_versions,
    ("registered-models/get-latest-versions", "GET"): registry.get_latest_versions,
    ("registered-models/set-tag", "POST"): registry.set_registered_model_tag,
    ("registered-models/delete-tag", "DELETE"): registry.delete_registered_model_tag,
    ("registered-models/alias", "POST"): registry.set_alias,
    ("registered-models/alias", "DELETE"): registry.delete_alias,
    ("registered-models/alias", "GET"): registry.get_by_alias,
    ("model-versions/create", "POST"): registry.create_model_version,
    ("model-versions/get", "GET"): registry.get_model_version,
    ("model-versions/search", "GET"): registry.search_model_versions,
    ("model-versions/update", "PATCH"): registry.update_model_version,
    ("model-versions/delete", "DELETE"): registry.delete_model_version,
    ("model-versions/transition-stage", "POST"): registry.transition_stage,
    ("model-versions/get-download-uri", "GET"): registry.get_download_uri,
    ("model-versions/set-tag", "POST"): registry.set_model_version_tag,
    ("model-versions/delete-tag", "DELETE"): registry.delete_model_version_tag,
}

# kernelflow's own additions, under /api/2.0/kernelflow/ (not part of MLflow's API).
EXTENSIONS: dict[tuple[str, str], Endpoint] = {
    ("runs/count", "POST"): tracking.count_runs,
    ("experiments/run-counts", "GET"): tracking.run_counts,
}
