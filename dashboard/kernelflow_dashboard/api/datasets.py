"""Run inputs: ``runs/log-inputs`` and the ``inputs``/``outputs`` of runs in get and search.

MLflow's ``log_input(dataset, context="train")`` sends one ``DatasetInput`` (a dataset
with name, digest, source type, source, schema and profile, plus input tags such as
``mlflow.data.context``); MLflow 3 also sends logged models used as inputs.
"""

from __future__ import annotations

from kernelflow import Dataset, DatasetInput, codec
from kernelflow.errors import InvalidParameterError

from .request import Params
from .service import Api

_DATASET_FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")


# -- requests -------------------------------------------------------------------------
def _dataset_input(raw: Params) -> DatasetInput:
    """A ``DatasetInput`` message as the store's :class:`DatasetInput`."""
    d = raw.obj("dataset", required=True)
    values = {k: d.text(k) for k in _DATASET_FIELDS}
    for name in _DATASET_FIELDS[:4]:
        if values[name] is None:
            raise InvalidParameterError(
                f"Missing value for required parameter '{d.name(name)}': dataset {name} "
                "cannot be None.")
    return DatasetInput(Dataset(**values), _input_tags(raw.objects("tags")))


def _input_tags(raw: list[Params]) -> dict[str, str]:
    """Input tags: each needs a key and a value (MLflow's ``InputTag``)."""
    tags = {}
    for tag in raw:
        if tag.text("value") is None:
            raise InvalidParameterError(
                f"Missing value for required parameter '{tag.name('value')}'.")
        tags[tag.need("key")] = tag.text("value")
    return tags


def _model_ids(raw: list[Params]) -> list[str]:
    return [model.need("model_id") for model in raw]


def log_inputs(api: Api, p: Params) -> dict:
    """POST runs/log-inputs: datasets (and logged models) a run used."""
    run_id = p.need("run_id")
    datasets = [_dataset_input(x) for x in p.objects("datasets")]
    api.client.log_inputs(run_id, datasets, _model_ids(p.objects("models")))
    return {}


# -- responses ------------------------------------------------------------------------
def dataset_input(item: DatasetInput) -> dict:
    """A ``DatasetInput`` message."""
    return codec.dataset_input_json(item)


def run_inputs(api: Api, run_id: str) -> dict:
    """A ``RunInputs`` message for ``runs/get``: dataset inputs and model inputs."""
    out: dict = {}
    datasets = api.client.get_dataset_inputs([run_id]).get(run_id)
    if datasets:
        out["dataset_inputs"] = [dataset_input(x) for x in datasets]
    models = api.client.get_model_inputs(run_id)
    if models:
        out["model_inputs"] = [{"model_id": m} for m in models]
    return out


def add_search_inputs_outputs(api: Api, runs: list[dict]) -> list[dict]:
    """Fill the dataset inputs and model outputs of ``Run`` messages from a search.

    As MLflow's ``runs/search`` does: dataset inputs and model outputs, not model inputs.
    Two queries per 500 runs, not one per run.
    """
    ids = [r["info"]["run_id"] for r in runs]
    datasets = api.client.get_dataset_inputs(ids)
    outputs = api.client.get_model_outputs(ids)
    for run in runs:
        run_id = run["info"]["run_id"]
        if run_id in datasets:
            run["inputs"] = {"dataset_inputs": [dataset_input(x) for x in datasets[run_id]]}
        if run_id in outputs:
            run["outputs"] = {"model_outputs": [{"model_id": m, "step": s}
                                                for m, s in outputs[run_id]]}
    return runs


MAX_SEARCH_DATASETS_EXPERIMENTS = 20


def search_datasets(api: Api, p: Params) -> dict:
    """POST experiments/search-datasets: the datasets the experiments' runs used (MLflow's UI).

    Answers ``{"dataset_summaries": [{experiment_id, name, digest, context}]}``, the context
    left out for inputs without a ``mlflow.data.context`` tag, as MLflow's JSON does.
    """
    ids = [str(e) for e in p.many("experiment_ids")]
    if not ids:
        raise InvalidParameterError(
            "SearchDatasets request must specify at least one experiment_id.")
    if len(ids) > MAX_SEARCH_DATASETS_EXPERIMENTS:
        raise InvalidParameterError(
            f"SearchDatasets request cannot specify more than {MAX_SEARCH_DATASETS_EXPERIMENTS} "
            f"experiment_ids. Received {len(ids)} experiment_ids.")
    found = api.client.search_dataset_summaries(ids)
    return {"dataset_summaries": [{k: v for k, v in s.items() if v is not None} for s in found]}
