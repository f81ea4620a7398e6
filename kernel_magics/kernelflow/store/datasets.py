"""A run's inputs (datasets and logged models) and experiment tag removal: all their SQL.

MLflow's ``log_input(dataset, context=...)`` records a dataset (name, digest, source
type, source, schema, profile) once per experiment, keyed by name and digest, and an
input edge from that dataset to the run carrying the input's tags (such as
``mlflow.data.context``). Logging the same dataset to the same run again keeps the
first edge and its tags, as MLflow does.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import InvalidParameterError, InvalidStateError, ResourceNotFoundError
from .tracking import TrackingStore

# MLflow's limits (mlflow/utils/validation.py), so a dataset MLflow accepts fits here too.
MAX_NAME, MAX_DIGEST, MAX_SOURCE = 500, 36, 65_535
MAX_SCHEMA, MAX_PROFILE = 1_048_575, 16_777_215
MAX_TAG_KEY, MAX_TAG_VALUE = 255, 500
MAX_DATASETS_PER_CALL = 1000
# Run ids per IN (...) query: well under SQLite's bound-parameter limit.
_CHUNK = 500


@dataclass(frozen=True)
class Dataset:
    """A dataset as MLflow describes it (``mlflow.entities.Dataset``)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    """A dataset used by a run, with the input's tags (``{"mlflow.data.context": "train"}``)."""

    dataset: Dataset
    tags: dict[str, str] = field(default_factory=dict)


def _check_length(what: str, value: str | None, limit: int, required: bool = True) -> None:
    if value is None:
        if required:
            raise InvalidParameterError(f"Dataset {what} is required; got none.")
        return
    if not isinstance(value, str):
        raise InvalidParameterError(f"Dataset {what} must be a string, got {value!r}.")
    if len(value) > limit:
        raise InvalidParameterError(
            f"Dataset {what} is {len(value)} characters long; the limit is {limit}."
        )


def check_dataset_input(item: DatasetInput) -> None:
    """Check a dataset input against MLflow's rules.

    Raises:
        InvalidParameterError: naming the field that is missing or too long.
    """
    d = item.dataset
    for what, value, limit in (("name", d.name, MAX_NAME), ("digest", d.digest, MAX_DIGEST),
                               ("source_type", d.source_type, MAX_NAME),
                               ("source", d.source, MAX_SOURCE)):
        _check_length(what, value, limit)
    _check_length("schema", d.schema, MAX_SCHEMA, required=False)
    _check_length("profile", d.profile, MAX_PROFILE, required=False)
    for key, value in item.tags.items():
        if not key or len(key) > MAX_TAG_KEY:
            raise InvalidParameterError(
                f"Input tag key {key!r} must be 1 to {MAX_TAG_KEY} characters long."
            )
        if value is None or len(value) > MAX_TAG_VALUE:
            raise InvalidParameterError(
                f"Input tag {key!r} needs a value of at most {MAX_TAG_VALUE} characters."
            )


def _first_of_each(datasets: list[DatasetInput]) -> list[DatasetInput]:
    """Drop repeats of a (name, digest) pair, keeping the first (MLflow does the same)."""
    seen: dict[tuple[str, str], DatasetInput] = {}
    for item in datasets:
        seen.setdefault((item.dataset.name, item.dataset.digest), item)
    return list(seen.values())


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _dataset_uuid(conn: sqlite3.Connection, experiment_id: int, d: Dataset) -> str:
    """The id of the experiment's dataset with this name and digest, created if new."""
    row = conn.execute(
        "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
        [experiment_id, d.name, d.digest]).fetchone()
    if row:
        return row[0]
    new = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, "
        "dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [new, experiment_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile])
    return new


def _link(conn: sqlite3.Connection, run_id: str, dataset_uuid: str, tags: dict[str, str]) -> None:
    """Add the dataset -> run edge with its tags, unless the run already has this dataset."""
    exists = conn.execute(
        "SELECT 1 FROM dataset_inputs WHERE run_uuid = ? AND dataset_uuid = ?",
        [run_id, dataset_uuid]).fetchone()
    if exists:
        return
    input_uuid = uuid.uuid4().hex
    conn.execute("INSERT INTO dataset_inputs (input_uuid, run_uuid, dataset_uuid) VALUES (?, ?, ?)",
                 [input_uuid, run_id, dataset_uuid])
    conn.executemany("INSERT INTO input_tags (input_uuid, key, value) VALUES (?, ?, ?)",
                     [(input_uuid, k, v) for k, v in tags.items()])


class DatasetStore(TrackingStore):
    """Mixin over StoreBase (and TrackingStore) with run inputs and experiment tag removal."""

    # -- run inputs ----------------------------------------------------------------------
    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None,
                   model_ids: list[str] | None = None) -> None:
        """Record the datasets (and logged models) a run used, in one transaction.

        Args:
            run_id: an active run.
            datasets: the dataset inputs; a (name, digest) pair the run already has is
                kept as it was, tags included.
            model_ids: logged models the run used as inputs.

        Raises:
            InvalidParameterError: a dataset or tag breaks MLflow's rules, or too many datasets.
            InvalidStateError: the run is deleted.
        """
        datasets = list(datasets or [])
        if len(datasets) > MAX_DATASETS_PER_CALL:
            raise InvalidParameterError(
                f"At most {MAX_DATASETS_PER_CALL} datasets can be logged in one call; got "
                f"{len(datasets)}. Split them up.")
        for item in datasets:
            check_dataset_input(item)
        info = self.get_run_info(run_id)
        if info.lifecycle_stage != "active":
            raise InvalidStateError(
                f"The run {run_id} must be in the 'active' state to log inputs; it is "
                f"{info.lifecycle_stage}. Restore it with restore_run() first.")
        experiment_id = int(info.experiment_id)

        def txn(conn: sqlite3.Connection) -> None:
            for item in _first_of_each(datasets):
                _link(conn, run_id, _dataset_uuid(conn, experiment_id, item.dataset), item.tags)
            conn.executemany("INSERT OR IGNORE INTO run_model_inputs (run_uuid, model_id) "
                             "VALUES (?, ?)", [(run_id, str(m)) for m in model_ids or []])

        self.write(txn)

    def get_dataset_inputs(self, run_ids: list[str]) -> dict[str, list[DatasetInput]]:
        """The dataset inputs of each run, in logging order (runs without any are left out)."""
        out: dict[str, list[DatasetInput]] = {}
        tags = self._input_tags(run_ids)
        for chunk in _chunks(list(run_ids)):
            rows = self.query(
                "SELECT i.run_uuid, i.input_uuid, d.name, d.digest, d.source_type, d.source, "
                "d.dataset_schema, d.dataset_profile FROM dataset_inputs i JOIN datasets d "
                f"ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN ({_marks(chunk)}) "
                "ORDER BY i.rowid", chunk)
            for run_id, input_uuid, *fields in rows:
                out.setdefault(run_id, []).append(
                    DatasetInput(Dataset(*fields), tags.get(input_uuid, {})))
        return out

    def search_dataset_summaries(self, experiment_ids: list[str],
                                 limit: int = 1000) -> list[dict[str, str | None]]:
        """The distinct (experiment, dataset name, digest, context) of runs' dataset inputs.

        MLflow's ``experiments/search-datasets``: each dataset an experiment's runs used,
        once per ``mlflow.data.context`` tag value (``None`` without one), at most ``limit``.
        """
        ids = [int(e) for e in experiment_ids if str(e).isdigit()]
        if not ids:
            return []
        rows = self.query(
            "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
            "JOIN dataset_inputs i ON i.dataset_uuid = d.dataset_uuid "
            "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid "
            "AND t.key = 'mlflow.data.context' "
            f"WHERE d.experiment_id IN ({_marks(ids)}) LIMIT ?", [*ids, limit])
        return [{"experiment_id": str(e), "name": n, "digest": d, "context": c}
                for e, n, d, c in rows]

    def _input_tags(self, run_ids: list[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for chunk in _chunks(list(run_ids)):
            rows = self.query(
                "SELECT t.input_uuid, t.key, t.value FROM input_tags t JOIN dataset_inputs i "
                f"ON i.input_uuid = t.input_uuid WHERE i.run_uuid IN ({_marks(chunk)}) "
                "ORDER BY t.rowid", chunk)
            for input_uuid, key, value in rows:
                out.setdefault(input_uuid, {})[key] = value
        return out

    def get_model_inputs(self, run_id: str) -> list[str]:
        """The ids of the logged models a run used as inputs, in logging order."""
        rows = self.query(
            "SELECT model_id FROM run_model_inputs WHERE run_uuid = ? ORDER BY rowid", [run_id])
        return [r[0] for r in rows]

    def get_model_outputs(self, run_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
        """The models each run produced, ``{run_id: [(model_id, step), ...]}``, in one query
        per 500 runs (for search results; runs without outputs are left out)."""
        out: dict[str, list[tuple[str, int]]] = {}
        for chunk in _chunks(list(run_ids)):
            rows = self.query(
                "SELECT run_uuid, model_id, step FROM logged_model_outputs "
                f"WHERE run_uuid IN ({_marks(chunk)}) ORDER BY rowid", chunk)
            for run_id, model_id, step in rows:
                out.setdefault(run_id, []).append((model_id, step))
        return out

    # -- experiment tags -----------------------------------------------------------------
    def delete_experiment_tag(self, experiment_id, key: str) -> None:
        """Remove a tag from an active experiment.

        Raises:
            ResourceNotFoundError: no such experiment, or it has no tag ``key``.
            InvalidStateError: the experiment is deleted.
        """
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != "active":
            raise InvalidStateError(
                f"Experiment {exp.name!r} is deleted; restore it with restore_experiment() "
                "before changing its tags.")

        def txn(conn: sqlite3.Connection) -> None:
            gone = conn.execute("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?",
                                [int(exp.experiment_id), key]).rowcount
            if not gone:
                raise ResourceNotFoundError(
                    f"No tag with name: {key} in experiment with id {exp.experiment_id}.")

        self.write(txn)


def _marks(items: list) -> str:
    return ", ".join("?" for _ in items)
