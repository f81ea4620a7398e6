"""Evaluation datasets (``kf.genai.datasets``), stored in the tracking file.

::

    ds = kf.genai.datasets.create_dataset("qa", tags={"team": "ml"})
    ds.merge_records([{"inputs": {"question": "2+2?"},
                       "expectations": {"expected_response": "4"}}])
    ds.digest                      # changes with every change of content: a version
    kf.genai.evaluate(ds, predict_fn=app, scorers=[...])
    kf.genai.datasets.get_dataset(name="qa").to_df()

Records are keyed by their inputs: merging a record whose inputs are already in
the dataset updates it (expectations and tags merged). The same calls work from
MLflow (``mlflow.genai.datasets``) against ``kernelflow ui``.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParameterError, ResourceNotFoundError


def _client():
    from ..client import default_client

    return default_client()


class EvaluationDataset:
    """An evaluation dataset: its fields, and methods to add and read records."""

    def __init__(self, info: dict) -> None:
        self._info = info

    def __getattr__(self, name: str) -> Any:
        info = self.__dict__.get("_info", {})
        if name in info:
            return info[name]
        raise AttributeError(name)

    # fields: dataset_id, name, tags, digest, schema, profile, created_time,
    # last_update_time, created_by, last_updated_by, experiment_ids

    def merge_records(self, records: Any) -> EvaluationDataset:
        """Add records (a list of dicts or a DataFrame with ``inputs``, optional
        ``outputs``, ``expectations``, ``tags``); returns the dataset, refreshed."""
        if hasattr(records, "to_dict") and hasattr(records, "columns"):
            records = records.to_dict(orient="records")
        if not isinstance(records, list):
            raise InvalidParameterError(
                "merge_records takes a list of dicts (or a DataFrame) with 'inputs'.")
        keep = ("inputs", "outputs", "expectations", "tags", "source")
        clean = [{k: r[k] for k in keep if k in r and r[k] is not None} for r in records]
        c = _client()
        c.upsert_dataset_records(self.dataset_id, clean)
        self._info = c.get_dataset(self.dataset_id)
        return self

    @property
    def records(self) -> list[dict]:
        """Every record (``dataset_record_id``, ``inputs``, ``outputs``, ``expectations``...)."""
        return _client().get_dataset_records(self.dataset_id)[0]

    def to_df(self):
        """The records as a pandas DataFrame."""
        import pandas as pd

        cols = ["inputs", "outputs", "expectations", "tags", "source_type", "source_id",
                "created_time", "dataset_record_id"]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in self.records], columns=cols)

    def versions(self) -> list[dict]:
        """Every digest this dataset has had, oldest first (``digest``, ``created_time``,
        ``record_count``)."""
        return _client().get_dataset_versions(self.dataset_id)

    def at(self, digest: str) -> DatasetVersion:
        """This dataset as it was at one digest (see :meth:`versions`): read-only, and
        ``kf.genai.evaluate`` takes it like the dataset itself."""
        return DatasetVersion(self, digest,
                              _client().get_dataset_version_records(self.dataset_id, digest))

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Merge tags (None removes one)."""
        c = _client()
        c.set_dataset_tags(self.dataset_id, tags)
        self._info = c.get_dataset(self.dataset_id)

    def to_dict(self) -> dict:
        """The dataset's fields."""
        return dict(self._info)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return (f"EvaluationDataset(name={self.name!r}, dataset_id={self.dataset_id!r}, "
                f"digest={self.digest!r})")


class DatasetVersion:
    """One version of an evaluation dataset: ``name``, ``dataset_id``, ``digest``, ``records``."""

    def __init__(self, dataset: EvaluationDataset, digest: str, records: list[dict]) -> None:
        self.name, self.dataset_id, self.digest = dataset.name, dataset.dataset_id, digest
        self.records = records

    def to_df(self):
        """The version's records as a pandas DataFrame."""
        import pandas as pd

        cols = ["inputs", "outputs", "expectations"]
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in self.records], columns=cols)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"DatasetVersion(name={self.name!r}, digest={self.digest!r}, records={len(self)})"


def create_dataset(name: str, experiment_id: str | list[str] | None = None,
                   tags: dict[str, Any] | None = None) -> EvaluationDataset:
    """Create an evaluation dataset.

    Args:
        name: a unique name.
        experiment_id: the experiment(s) it belongs to (default: the current experiment).
        tags: key/values describing it.
    """
    if experiment_id is None:
        from .. import fluent

        active = fluent.active_run()
        experiment_id = active.info.experiment_id if active else fluent._current_experiment_id()
    return EvaluationDataset(_client().create_dataset(name, experiment_id, tags))


def get_dataset(name: str | None = None, dataset_id: str | None = None) -> EvaluationDataset:
    """An evaluation dataset by name or id."""
    if (name is None) == (dataset_id is None):
        raise InvalidParameterError("Pass exactly one of name= or dataset_id=.")
    c = _client()
    if dataset_id is not None:
        return EvaluationDataset(c.get_dataset(dataset_id))
    quoted = str(name).replace("'", "''")
    found, _ = c.search_datasets(filter_string=f"name = '{quoted}'", max_results=2)
    if not found:
        raise ResourceNotFoundError(f"No evaluation dataset named {name!r}; "
                                    "create it with kf.genai.datasets.create_dataset(name).")
    return EvaluationDataset(found[0])


def search_datasets(experiment_ids: str | list[str] | None = None,
                    filter_string: str | None = None, max_results: int | None = None,
                    order_by: list[str] | None = None) -> list[EvaluationDataset]:
    """Evaluation datasets matching a filter (``name LIKE 'qa%'``, ``tags.team = 'ml'``),
    newest first by default."""
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    c = _client()
    out: list[EvaluationDataset] = []
    token = None
    while max_results is None or len(out) < max_results:
        page = 1000 if max_results is None else min(1000, max_results - len(out))
        found, token = c.search_datasets(experiment_ids, filter_string, page, order_by, token)
        out += [EvaluationDataset(d) for d in found]
        if not token:
            break
    return out


def delete_dataset(name: str | None = None, dataset_id: str | None = None) -> None:
    """Delete an evaluation dataset (by name or id) with its records."""
    _client().delete_dataset(get_dataset(name, dataset_id).dataset_id)


__all__ = ["DatasetVersion", "EvaluationDataset", "create_dataset", "delete_dataset", "get_dataset",
           "search_datasets"]
