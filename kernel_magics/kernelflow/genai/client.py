"""The ``Client`` methods for evaluation datasets (MLflow's ``MlflowClient`` names).

Datasets and records travel as plain dicts with MLflow's field names
(``dataset_id``, ``name``, ``tags``, ``digest``, ``experiment_ids``; records with
``dataset_record_id``, ``inputs``, ``outputs``, ``expectations``, ``tags``);
``kernelflow.genai.datasets`` wraps them in friendlier objects.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParameterError, KernelflowError


class EvaluationDatasetClient:
    """A mixin of :class:`kernelflow.Client`: evaluation datasets in the tracking store."""

    def _eval_store(self) -> Any:
        store = self._store  # type: ignore[attr-defined]
        if not hasattr(store, "create_dataset"):
            raise KernelflowError(
                f"Evaluation datasets are not available on {self.tracking_uri!r} "  # type: ignore[attr-defined]
                "from this client; use a local tracking file (sqlite:///file.db).")
        return store

    def create_dataset(self, name: str, experiment_id: str | list[str] | None = None,
                       tags: dict[str, Any] | None = None) -> dict:
        """Create an evaluation dataset in one or more experiments; return it."""
        ids = [experiment_id] if isinstance(experiment_id, str) else list(experiment_id or [])
        tags = _tags(tags)
        user = tags.get("mlflow.user") or _current_user()  # MLflow's client sends its user
        return self._eval_store().create_dataset(name, tags, ids, user)

    def get_dataset(self, dataset_id: str) -> dict:
        """An evaluation dataset by id."""
        return self._eval_store().get_dataset(dataset_id)

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete an evaluation dataset and its records."""
        self._eval_store().delete_dataset(dataset_id)

    def search_datasets(self, experiment_ids: list[str] | None = None,
                        filter_string: str | None = None, max_results: int = 1000,
                        order_by: list[str] | None = None,
                        page_token: str | None = None) -> tuple[list[dict], str | None]:
        """Evaluation datasets matching ``filter_string`` (``name = 'qa'``, ``tags.k = 'v'``,
        ``created_time >= ms``, joined by AND); returns ``(datasets, next_page_token)``."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidParameterError(f"max_results must be a positive whole number, "
                                        f"got {max_results!r}.")
        return self._eval_store().search_datasets(experiment_ids, filter_string, max_results,
                                                  order_by, page_token)

    def upsert_dataset_records(self, dataset_id: str, records: list[dict]) -> dict[str, int]:
        """Add records to a dataset, merging those whose inputs are already there."""
        if not isinstance(records, list):
            raise InvalidParameterError("records must be a list of dicts with 'inputs'.")
        return self._eval_store().upsert_dataset_records(dataset_id, records, _current_user())

    def get_dataset_records(self, dataset_id: str, max_results: int | None = None,
                            page_token: str | None = None) -> tuple[list[dict], str | None]:
        """A dataset's records (all, or one page); returns ``(records, next_page_token)``."""
        return self._eval_store().load_dataset_records(dataset_id, max_results, page_token)

    def delete_dataset_records(self, dataset_id: str, dataset_record_ids: list[str]) -> int:
        """Delete records by id; returns how many were deleted."""
        return self._eval_store().delete_dataset_records(dataset_id, list(dataset_record_ids))

    def set_dataset_tags(self, dataset_id: str, tags: dict[str, Any]) -> None:
        """Merge tags into a dataset's (a None value removes that tag)."""
        self._eval_store().set_dataset_tags(dataset_id, _tags(tags))

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None:
        """Remove one tag from a dataset."""
        self._eval_store().delete_dataset_tag(dataset_id, key)

    def get_dataset_experiment_ids(self, dataset_id: str) -> list[str]:
        """The experiments a dataset belongs to."""
        return self._eval_store().get_dataset_experiment_ids(dataset_id)

    def add_dataset_to_experiments(self, dataset_id: str, experiment_ids: list[str]) -> dict:
        """Add a dataset to more experiments; return it."""
        return self._eval_store().set_dataset_experiments(dataset_id, add=list(experiment_ids))

    def remove_dataset_from_experiments(self, dataset_id: str, experiment_ids: list[str]) -> dict:
        """Remove a dataset from experiments; return it."""
        return self._eval_store().set_dataset_experiments(dataset_id, remove=list(experiment_ids))

    def get_dataset_versions(self, dataset_id: str) -> list[dict]:
        """Every digest a dataset has had (its versions), oldest first."""
        return self._eval_store().list_dataset_versions(dataset_id)

    def get_dataset_version_records(self, dataset_id: str, digest: str) -> list[dict]:
        """The records (inputs, outputs, expectations) of one version of a dataset."""
        return self._eval_store().get_dataset_version_records(dataset_id, digest)


def _current_user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return None


def _tags(tags: Any) -> dict:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise InvalidParameterError(f"tags must be a dict, got {type(tags).__name__}.")
    return {str(k): v for k, v in tags.items()}
