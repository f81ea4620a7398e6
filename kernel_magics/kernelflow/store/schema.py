"""The SQLite schema and its migrations.

Tables are created with sqlite-utils. Each migration brings the file from
version N-1 to N; ``SCHEMA_VERSION`` is the newest. Opening an older file runs
the missing migrations in one transaction; opening a newer one is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from ..errors import StoreError


def _v1_tracking(db: sqlite_utils.Database) -> None:
    db.table("experiments").create(
        {
            "experiment_id": int,
            "name": str,
            "artifact_location": str,
            "lifecycle_stage": str,
            "creation_time": int,
            "last_update_time": int,
        },
        pk="experiment_id",
        not_null={"name", "lifecycle_stage"},
    )
    db.table("experiments").create_index(["name"], unique=True)
    db.table("experiment_tags").create(
        {"experiment_id": int, "key": str, "value": str}, pk=("experiment_id", "key")
    )
    db.table("runs").create(
        {
            "run_uuid": str,
            "experiment_id": int,
            "name": str,
            "user_id": str,
            "status": str,
            "start_time": int,
            "end_time": int,
            "lifecycle_stage": str,
            "artifact_uri": str,
            "parent_run_id": str,
            "deleted_time": int,
        },
        pk="run_uuid",
    )
    db.table("runs").create_index(["experiment_id", "start_time"])
    db.table("params").create({"run_uuid": str, "key": str, "value": str}, pk=("run_uuid", "key"))
    db.table("tags").create({"run_uuid": str, "key": str, "value": str}, pk=("run_uuid", "key"))
    # Metric history is stored in chunks: one row holds many points of one
    # (run, key) as packed float64 triples (timestamp, step, value).
    db.table("metric_chunks").create(
        {"id": int, "run_uuid": str, "key": str, "n": int, "data": bytes}, pk="id"
    )
    db.table("metric_chunks").create_index(["run_uuid", "key", "id"])
    db.table("latest_metrics").create(
        {"run_uuid": str, "key": str, "value": float, "timestamp": int, "step": int, "is_nan": int},
        pk=("run_uuid", "key"),
    )


def _v2_registry(db: sqlite_utils.Database) -> None:
    db.table("latest_metrics").create_index(["key", "value"])
    db.table("registered_models").create(
        {"name": str, "creation_time": int, "last_updated_time": int, "description": str},
        pk="name",
    )
    db.table("registered_model_tags").create({"name": str, "key": str, "value": str}, pk=("name", "key"))
    db.table("model_versions").create(
        {
            "name": str,
            "version": int,
            "creation_time": int,
            "last_updated_time": int,
            "description": str,
            "user_id": str,
            "current_stage": str,
            "source": str,
            "run_id": str,
            "run_link": str,
            "status": str,
            "status_message": str,
            "storage_location": str,
        },
        pk=("name", "version"),
    )
    db.table("model_version_tags").create(
        {"name": str, "version": int, "key": str, "value": str}, pk=("name", "version", "key")
    )
    db.table("registered_model_aliases").create(
        {"name": str, "alias": str, "version": int}, pk=("name", "alias")
    )
    # Which version held an alias or a stage, from when to when (beyond MLflow).
    db.table("model_label_history").create(
        {
            "id": int,
            "name": str,
            "kind": str,  # "alias" or "stage"
            "label": str,
            "version": int,
            "start_time": int,
            "end_time": int,
        },
        pk="id",
    )
    db.table("model_label_history").create_index(["name", "kind", "label"])


def _v3_traces(db: sqlite_utils.Database) -> None:
    db.table("runs").add_column("source_notebook", str)
    db.table("traces").create(
        {
            "trace_id": str,
            "experiment_id": int,
            "name": str,
            "start_time": int,
            "end_time": int,
            "status": str,
            "inputs": str,
            "outputs": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cost": float,
            "tags": str,
        },
        pk="trace_id",
    )
    db.table("traces").create_index(["experiment_id", "start_time"])
    db.table("spans").create(
        {
            "span_id": str,
            "trace_id": str,
            "parent_span_id": str,
            "name": str,
            "span_type": str,
            "start_time": int,
            "end_time": int,
            "status": str,
            "inputs": str,
            "outputs": str,
            "attributes": str,
        },
        pk="span_id",
    )
    db.table("spans").create_index(["trace_id"])


# A run's latest metrics, params and tags as one JSON object with prefixed keys
# ("metrics.acc", "params.lr", "tags.team"; NaN as null). The store refreshes it
# in the same transaction as every write to those tables, so searches read one
# column per run instead of joining three tables.
RUN_SUMMARY_SQL = """
UPDATE runs SET summary = (SELECT json_group_object(k, v) FROM (
    SELECT 'metrics.' || key AS k,
        CASE WHEN is_nan THEN NULL
             WHEN value > 1.7976931348623157e308 THEN 'Infinity'
             WHEN value < -1.7976931348623157e308 THEN '-Infinity'
             ELSE value END AS v
        FROM latest_metrics WHERE run_uuid = runs.run_uuid
    UNION ALL SELECT 'params.' || key, value FROM params WHERE run_uuid = runs.run_uuid
    UNION ALL SELECT 'tags.' || key, value FROM tags WHERE run_uuid = runs.run_uuid
))
"""


def _v4_run_summary(db: sqlite_utils.Database) -> None:
    db.table("runs").add_column("summary", str)
    db.execute(RUN_SUMMARY_SQL)


def _v5_logged_models(db: sqlite_utils.Database) -> None:
    """MLflow 3's "logged models": a model with its own id, artifacts, tags, params, metrics."""
    db.table("logged_models").create(
        {
            "model_id": str,
            "experiment_id": int,
            "name": str,
            "source_run_id": str,
            "status": str,
            "status_message": str,
            "artifact_location": str,
            "creation_timestamp": int,
            "last_updated_timestamp": int,
            "model_type": str,
            "lifecycle_stage": str,
        },
        pk="model_id",
        not_null={"experiment_id", "name", "status", "lifecycle_stage"},
    )
    db.table("logged_models").create_index(["experiment_id", "creation_timestamp"])
    db.table("logged_models").create_index(["source_run_id"])
    db.table("logged_model_tags").create(
        {"model_id": str, "key": str, "value": str}, pk=("model_id", "key")
    )
    db.table("logged_model_params").create(
        {"model_id": str, "key": str, "value": str}, pk=("model_id", "key")
    )
    db.table("logged_model_metrics").create(
        {"model_id": str, "key": str, "value": float, "timestamp": int, "step": int,
         "run_uuid": str, "dataset_name": str, "dataset_digest": str},
    )
    db.table("logged_model_metrics").create_index(["model_id", "key"])
    # A run's outputs: the models it logged, and at which step (MLflow's LoggedModelOutput).
    db.table("logged_model_outputs").create(
        {"run_uuid": str, "model_id": str, "step": int}, pk=("run_uuid", "model_id")
    )


def _v6_datasets(db: sqlite_utils.Database) -> None:
    """MLflow's run inputs: datasets (one per experiment, name and digest), the runs that
    used them with the input's tags (``mlflow.data.context``), and logged models as inputs."""
    db.table("datasets").create(
        {"dataset_uuid": str, "experiment_id": int, "name": str, "digest": str,
         "source_type": str, "source": str, "dataset_schema": str, "dataset_profile": str},
        pk="dataset_uuid",
        not_null={"experiment_id", "name", "digest"},
    )
    db.table("datasets").create_index(["experiment_id", "name", "digest"], unique=True)
    db.table("dataset_inputs").create(
        {"input_uuid": str, "run_uuid": str, "dataset_uuid": str}, pk="input_uuid",
        not_null={"run_uuid", "dataset_uuid"},
    )
    db.table("dataset_inputs").create_index(["run_uuid", "dataset_uuid"], unique=True)
    db.table("input_tags").create(
        {"input_uuid": str, "key": str, "value": str}, pk=("input_uuid", "key")
    )
    db.table("run_model_inputs").create(
        {"run_uuid": str, "model_id": str}, pk=("run_uuid", "model_id")
    )


def _v7_refresh_run_summaries(db: sqlite_utils.Database) -> None:
    # Summaries written before v7 held infinite metrics as SQLite's bare Inf, which is not JSON.
    db.execute(RUN_SUMMARY_SQL)


def _v9_deployments(db: sqlite_utils.Database) -> None:
    from .deployments import create_table  # served models (kernelflow serve)

    create_table(db)


def _v10_gateway(db: sqlite_utils.Database) -> None:
    from .gateway import create_tables  # LLM gateway keys, usage windows, calls

    create_tables(db)


def _v8_traces(db: sqlite_utils.Database) -> None:
    from .traces import create_tables  # MLflow 3's traces, spans and assessments

    create_tables(db)


def _v11_evaluation(db: sqlite_utils.Database) -> None:
    from .evaluation import create_tables  # evaluation datasets, records, versions

    create_tables(db)


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {
    1: _v1_tracking,
    2: _v2_registry,
    3: _v3_traces,
    4: _v4_run_summary,
    5: _v5_logged_models,
    6: _v6_datasets,
    7: _v7_refresh_run_summaries,
    8: _v8_traces,
    9: _v9_deployments,
    10: _v10_gateway,
    11: _v11_evaluation,
}
SCHEMA_VERSION = max(MIGRATIONS)


def current_version(db: sqlite_utils.Database) -> int:
    """Return the schema version stored in the file (0 for an empty file)."""
    if "kernelflow_meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM kernelflow_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite_utils.Database, target: int | None = None) -> int:
    """Bring the file up to ``target``; the caller holds a write transaction.

    Returns the version found before migrating. Raises StoreError when the
    file was written by a newer kernelflow.
    """
    target = SCHEMA_VERSION if target is None else target
    found = current_version(db)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"This tracking file has schema version {found}, newer than this kernelflow "
            f"understands ({SCHEMA_VERSION}). Upgrade kernelflow (pip install -U kernelflow) "
            "or point KERNELFLOW_TRACKING_URI at another file."
        )
    if found == 0:
        db.table("kernelflow_meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    for version in range(found + 1, target + 1):
        MIGRATIONS[version](db)
        if version == 1:
            db.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
                " creation_time, last_update_time) VALUES (0, 'Default', NULL, 'active', "
                "CAST(strftime('%s','now') AS INTEGER) * 1000, CAST(strftime('%s','now') AS INTEGER) * 1000)"
            )
        db.execute(
            "INSERT OR REPLACE INTO kernelflow_meta (key, value) VALUES ('schema_version', ?)",
            [str(version)],
        )
    return found
