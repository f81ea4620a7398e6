"""The endpoint tables: (path under ``/api/2.0/mlflow/``, HTTP method) -> function.

``ENDPOINTS`` holds fixed paths; ``PATH_ENDPOINTS`` holds paths with ids in them
(``logged-models/{model_id}``), whose named groups join the request's fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import datasets, history, logged_models, metrics, registry, tracking, version
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
    ("experiments/delete-experiment-tag", "POST"): tracking.delete_experiment_tag,
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
    ("runs/log-inputs", "POST"): datasets.log_inputs,
    ("metrics/get-history", "GET"): metrics.get_history,
    ("metrics/get-history-bulk-interval", "GET"): metrics.get_history_bulk_interval,
    ("metrics/get-history-bulk", "GET"): metrics.get_history_bulk,
    ("experiments/search-datasets", "POST"): datasets.search_datasets,
    ("runs/create-promptlab-run", "POST"): tracking.create_promptlab_run,
    ("artifacts/list", "GET"): list_run_artifacts,
    ("runs/outputs", "POST"): logged_models.log_outputs,
    ("logged-models", "POST"): logged_models.create_logged_model,
    ("logged-models/search", "POST"): logged_models.search_logged_models,
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

_MODEL = r"logged-models/(?P<model_id>[^/]+)"
PATH_ENDPOINTS: list[tuple[re.Pattern, str, Endpoint]] = [
    (re.compile(_MODEL), "GET", logged_models.get_logged_model),
    (re.compile(_MODEL), "PATCH", logged_models.finalize_logged_model),
    (re.compile(_MODEL), "DELETE", logged_models.delete_logged_model),
    (re.compile(_MODEL + "/tags"), "PATCH", logged_models.set_logged_model_tags),
    (re.compile(_MODEL + "/tags/(?P<tag_key>.+)"), "DELETE", logged_models.delete_logged_model_tag),
    (re.compile(_MODEL + "/params"), "POST", logged_models.log_logged_model_params),
    (re.compile(_MODEL + "/artifacts/directories"), "GET",
     logged_models.list_logged_model_artifacts),
]


def find_endpoint(table: dict, endpoint: str, method: str) -> tuple[Endpoint | None, dict, bool]:
    """Look up a request's function.

    Returns:
        ``(function or None, fields taken from the path, whether the path exists
        for another method)``.
    """
    fn = table.get((endpoint, method))
    if fn is not None:
        return fn, {}, False
    exists = any(path == endpoint for path, _ in table)
    if table is ENDPOINTS:
        for pattern, verb, candidate in PATH_ENDPOINTS:
            match = pattern.fullmatch(endpoint)
            if match and verb == method:
                return candidate, match.groupdict(), False
            exists = exists or bool(match)
    return None, {}, exists


# kernelflow's own additions, under /api/2.0/kernelflow/ (not part of MLflow's API).
EXTENSIONS: dict[tuple[str, str], Endpoint] = {
    ("runs/count", "POST"): tracking.count_runs,
    ("experiments/run-counts", "GET"): tracking.run_counts,
    ("registered-models/label-history", "GET"): history.get_label_history,
    ("version", "GET"): version.get_version,
}
