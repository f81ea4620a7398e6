"""Experiments, runs and metrics endpoints (MLflow's ``MlflowService``)."""

from __future__ import annotations

import json
import time

from kernelflow.entities import Metric, Param, RunTag
from kernelflow.errors import InvalidParameterError, InvalidStateError, ResourceNotFoundError
from kernelflow.validation import check_batch_limits

from . import datasets, logged_models, shapes
from .request import Params
from .service import Api

VIEW_TYPES = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL",
              "ACTIVE_ONLY": "ACTIVE_ONLY", "DELETED_ONLY": "DELETED_ONLY", "ALL": "ALL"}
MAX_EXPERIMENT_RESULTS = 50_000
MAX_RUN_RESULTS = 50_000


def _view(value, default: str = "ACTIVE_ONLY") -> str:
    if value in (None, ""):
        return default
    view = VIEW_TYPES.get(str(value).upper())
    if view is None:
        raise InvalidParameterError(
            f"Invalid view type {value!r}; use ACTIVE_ONLY, DELETED_ONLY or ALL."
        )
    return view


# -- experiments -------------------------------------------------------------
def create_experiment(api: Api, p: Params) -> dict:
    """POST experiments/create: any ``artifact_location`` is stored as MLflow stores it."""
    location = api.uris.stored(p.text("artifact_location"))
    exp_id = api.client.create_experiment(p.need("name"), location, p.tags())
    return {"experiment_id": exp_id}


def get_experiment(api: Api, p: Params) -> dict:
    """GET experiments/get."""
    exp = api.client.get_experiment(p.need("experiment_id"))
    return {"experiment": shapes.experiment(exp, api.uris)}


def get_experiment_by_name(api: Api, p: Params) -> dict:
    """GET experiments/get-by-name."""
    name = p.need("experiment_name")
    exp = api.client.get_experiment_by_name(name)
    if exp is None:
        raise ResourceNotFoundError(f"Could not find experiment with name '{name}'.")
    return {"experiment": shapes.experiment(exp, api.uris)}


def search_experiments(api: Api, p: Params) -> dict:
    """POST (or GET) experiments/search: MLflow's filter grammar, order_by and default order."""
    max_results = check_max_results(p.integer("max_results", 1000), MAX_EXPERIMENT_RESULTS)
    page = api.client.search_experiments(
        view_type=_view(p.get("view_type")), max_results=max_results,
        filter_string=p.text("filter"), order_by=p.many("order_by") or None,
        page_token=p.text("page_token"),
    )
    out: dict = {"experiments": [shapes.experiment(e, api.uris) for e in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def update_experiment(api: Api, p: Params) -> dict:
    """POST experiments/update (rename)."""
    exp_id = p.need("experiment_id")
    if p.text("new_name"):
        api.client.rename_experiment(exp_id, p.text("new_name"))
    return {}


def delete_experiment(api: Api, p: Params) -> dict:
    """POST experiments/delete."""
    api.client.delete_experiment(p.need("experiment_id"))
    return {}


def restore_experiment(api: Api, p: Params) -> dict:
    """POST experiments/restore."""
    api.client.restore_experiment(p.need("experiment_id"))
    return {}


def set_experiment_tag(api: Api, p: Params) -> dict:
    """POST experiments/set-experiment-tag."""
    api.client.set_experiment_tag(p.need("experiment_id"), p.need("key"), p.text("value", ""))
    return {}


def delete_experiment_tag(api: Api, p: Params) -> dict:
    """POST experiments/delete-experiment-tag."""
    api.client.delete_experiment_tag(p.need("experiment_id"), p.need("key"))
    return {}


# -- runs ----------------------------------------------------------------------
def create_run(api: Api, p: Params) -> dict:
    """POST runs/create."""
    tags = p.tags()
    if p.text("user_id"):
        tags.setdefault("mlflow.user", p.text("user_id"))
    run = api.client.create_run(
        p.text("experiment_id") or "0", start_time=p.integer("start_time"), tags=tags,
        run_name=p.text("run_name") or None, parent_run_id=_parent(api, tags),
    )
    return {"run": shapes.run(run, api.uris)}


def _parent(api: Api, tags: dict[str, str]) -> str | None:
    """The parent run to link, if it exists; MLflow keeps a ``mlflow.parentRunId`` tag naming
    a run it does not know as given, and so does kernelflow (the tag stays in ``tags``)."""
    parent = tags.get("mlflow.parentRunId")
    if not parent:
        return None
    try:
        api.client.get_run(parent)
    except ResourceNotFoundError:
        return None
    return parent


def check_max_results(n: int, limit: int) -> int:
    """MLflow's ``max_results`` bounds, with MLflow's key phrase in the message.

    Raises:
        InvalidParameterError: for ``n`` below 1 or over ``limit``.
    """
    if n < 1:
        raise InvalidParameterError(
            f"Invalid value {n} for parameter 'max_results' supplied. It must be a positive "
            f"integer: max_results is between 1 and {limit}.")
    if n > limit:
        raise InvalidParameterError(
            f"Invalid value {n} for parameter 'max_results' supplied. It must be at most "
            f"{limit}: max_results is between 1 and {limit}; page through more results with "
            "next_page_token.")
    return n


def get_run(api: Api, p: Params) -> dict:
    """GET runs/get, with the run's inputs (datasets, models) and outputs (models)."""
    run_id = p.need("run_id", "run_uuid")
    out = shapes.run(api.client.get_run(run_id), api.uris)
    out["inputs"] = datasets.run_inputs(api, run_id)
    outputs = logged_models.run_outputs(api, run_id)
    if outputs:
        out["outputs"] = outputs
    return {"run": out}


def update_run(api: Api, p: Params) -> dict:
    """POST runs/update: status, end time and/or name."""
    run_id = p.need("run_id", "run_uuid")
    status, name = p.text("status"), p.text("run_name")
    api.client.flush()
    if status:
        end = p.integer("end_time")
        if end is None and status != "RUNNING":
            end = int(time.time() * 1000)
        api.client.update_run_info(run_id, status, end, name)
    elif name:
        api.client.update_run_info(run_id, None, None, name)
    return {"run_info": shapes.run_info(api.client.get_run_info(run_id), api.uris)}


def delete_run(api: Api, p: Params) -> dict:
    """POST runs/delete."""
    api.client.delete_run(p.need("run_id"))
    return {}


def restore_run(api: Api, p: Params) -> dict:
    """POST runs/restore."""
    api.client.restore_run(p.need("run_id"))
    return {}


def search_runs(api: Api, p: Params) -> dict:
    """POST runs/search: the filter grammar, order_by and page tokens; each run with its
    dataset inputs and model outputs, as MLflow's search returns them."""
    max_results = check_max_results(p.integer("max_results", 1000), MAX_RUN_RESULTS)
    runs = api.client.search_runs(
        [str(e) for e in p.many("experiment_ids")], filter_string=p.text("filter") or "",
        run_view_type=_view(p.get("run_view_type")), max_results=max_results,
        order_by=p.many("order_by") or None, page_token=p.text("page_token"),
    )
    found = [shapes.run(r, api.uris) for r in runs]
    out: dict = {"runs": datasets.add_search_inputs_outputs(api, found)}
    if runs.token:
        out["next_page_token"] = runs.token
    return out


def create_promptlab_run(api: Api, p: Params) -> dict:
    """POST runs/create-promptlab-run: MLflow's prompt-engineering UI records one evaluation.

    As MLflow: a FINISHED run with the model parameters, ``model_route`` and
    ``prompt_template`` as params, ``mlflow.runSourceType = PROMPT_ENGINEERING``, and the
    prompt, its parameters and the output as the ``eval_results_table.json`` table
    artifact. (MLflow also writes a ``promptlab`` model flavor, which kernelflow cannot load.)
    """
    fields: dict = {}
    for name in ("experiment_id", "prompt_template", "prompt_parameters", "model_route",
                 "model_input", "mlflow_version"):  # checked in MLflow's order
        fields[name] = p.objects(name) if name == "prompt_parameters" else p.text(name)
        if not fields[name]:
            raise InvalidParameterError(f"CreatePromptlabRun request must specify {name}.")
    prompt_params = [(x.need("key"), x.text("value", "")) for x in fields["prompt_parameters"]]
    model_params = [Param(x.need("key"), x.text("value", "")) for x in p.objects("model_parameters")]
    output_params = [(x.need("key"), x.text("value", ""))
                     for x in p.objects("model_output_parameters")]
    exp = api.client.get_experiment(fields["experiment_id"])
    api.uris.readable(exp.artifact_location, f"artifacts of experiment {exp.experiment_id}")
    tags = p.tags()
    tags.setdefault("mlflow.user", p.text("user_id") or "unknown")
    run = api.client.create_run(fields["experiment_id"], start_time=p.integer("start_time"),
                                tags=tags, run_name=p.text("run_name") or None)
    run_id = run.info.run_id
    table = {"columns": [k for k, _ in prompt_params] + ["prompt", "output"]
             + [k for k, _ in output_params],
             "data": [[v for _, v in prompt_params] + [fields["model_input"],
                                                       p.text("model_output")]
                      + [v for _, v in output_params]]}
    params = [*model_params, Param("model_route", fields["model_route"]),
              Param("prompt_template", fields["prompt_template"])]
    run_tags = [RunTag("mlflow.loggedArtifacts",
                       json.dumps([{"path": "eval_results_table.json", "type": "table"}])),
                RunTag("mlflow.runSourceType", "PROMPT_ENGINEERING")]
    try:
        api.client.log_batch(run_id, params=params, tags=run_tags, synchronous=True)
        api.client.log_dict(run_id, table, "eval_results_table.json")
    except Exception:
        api.client.set_terminated(run_id, "FAILED")
        raise
    api.client.set_terminated(run_id, "FINISHED")
    return {"run": shapes.run(api.client.get_run(run_id), api.uris)}


def _check_active(api: Api, run_id: str) -> str:
    info = api.client.get_run_info(run_id)
    if info.lifecycle_stage != "active":
        raise InvalidStateError(
            f"The run {run_id} must be in the 'active' state. Current state is "
            f"{info.lifecycle_stage}."
        )
    return run_id


def log_metric(api: Api, p: Params) -> dict:
    """POST runs/log-metric."""
    fields = metric_fields(p, _now())
    run_id = _check_active(api, p.need("run_id", "run_uuid"))
    if fields["model_id"]:
        logged_models.log_model_metrics(api, run_id, [fields])
    api.client.log_batch(run_id, metrics=[_metric(fields)], synchronous=True)
    return {}


def log_param(api: Api, p: Params) -> dict:
    """POST runs/log-parameter."""
    run_id = _check_active(api, p.need("run_id", "run_uuid"))
    _forget_params(api, run_id)
    api.client.log_batch(run_id, params=[Param(p.need("key"), p.text("value", ""))],
                         synchronous=True)
    return {}


def set_tag(api: Api, p: Params) -> dict:
    """POST runs/set-tag."""
    run_id = _check_active(api, p.need("run_id", "run_uuid"))
    api.client.log_batch(run_id, tags=[RunTag(p.need("key"), p.text("value", ""))],
                         synchronous=True)
    return {}


def delete_tag(api: Api, p: Params) -> dict:
    """POST runs/delete-tag."""
    api.client.delete_tag(_check_active(api, p.need("run_id")), p.need("key"))
    return {}


def log_batch(api: Api, p: Params) -> dict:
    """POST runs/log-batch (MLflow's limits: 1000 metrics, 100 params, 100 tags, 1000 total)."""
    run_id, now = p.need("run_id"), _now()
    raw = [metric_fields(m, now) for m in p.objects("metrics")]
    metrics = [_metric(m) for m in raw]
    params = [Param(x.need("key"), x.text("value", "")) for x in p.objects("params")]
    tags = [RunTag(x.need("key"), x.text("value", "")) for x in p.objects("tags")]
    check_batch_limits(len(metrics), len(params), len(tags))
    _check_active(api, run_id)
    if params:
        _forget_params(api, run_id)
    if any(m.get("model_id") for m in raw):
        logged_models.log_model_metrics(api, run_id, raw)
        metrics = _unseen(api, run_id, metrics, raw)
    api.client.log_batch(run_id, metrics=metrics, params=params, tags=tags, synchronous=True)
    return {}


def _unseen(api: Api, run_id: str, metrics: list[Metric], raw: list[dict]) -> list[Metric]:
    """Drop model-linked points the run already has.

    MLflow's ``log_model`` re-sends a run's metrics at the model's step with the
    model's id, to link them to the model; MLflow dedupes such identical points,
    so kernelflow must not append them to the run's history a second time.
    """
    seen: dict[str, set] = {}
    out = []
    for metric, m in zip(metrics, raw, strict=True):
        if m.get("model_id"):
            if metric.key not in seen:
                history = api.client.get_metric_history(run_id, metric.key)
                seen[metric.key] = {(x.timestamp, x.step, x.value) for x in history}
            if (metric.timestamp, metric.step, metric.value) in seen[metric.key]:
                continue
        out.append(metric)
    return out


def _forget_params(api: Api, run_id: str) -> None:
    """Drop the client's cached params of a run so a change is checked against the file.

    Other processes (notebooks, other servers) log to the same SQLite file; with a
    stale cache a changed param would only fail at commit, as a 500 instead of a 400.
    """
    api.client._params.pop(run_id, None)  # type: ignore[attr-defined]


def metric_fields(m: Params, now: int) -> dict:
    """A ``Metric`` message's fields, typed (a missing timestamp is ``now``, step 0)."""
    return {"key": m.need("key"), "value": m.number("value"),
            "timestamp": m.integer("timestamp") or now, "step": m.integer("step", 0),
            "model_id": m.text("model_id"), "dataset_name": m.text("dataset_name"),
            "dataset_digest": m.text("dataset_digest")}


def _metric(fields: dict) -> Metric:
    return Metric(fields["key"], fields["value"], fields["timestamp"], fields["step"])


def _now() -> int:
    return int(time.time() * 1000)


def count_runs(api: Api, p: Params) -> dict:
    """POST /api/2.0/kernelflow/runs/count: how many runs a search would return."""
    count = api.client.count_runs(
        [str(e) for e in p.many("experiment_ids")], filter_string=p.text("filter") or None,
        run_view_type=_view(p.get("run_view_type")),
    )
    return {"count": count}


def run_counts(api: Api, p: Params) -> dict:
    """GET /api/2.0/kernelflow/experiments/run-counts: active runs per experiment id."""
    return {"counts": api.client.count_runs_by_experiment()}
