"""Schema versions and migrations on real files."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

import kernelflow as kf
from kernelflow.errors import StoreError
from kernelflow.store import SqliteStore, schema


def _make_v1_file(path):
    db = sqlite_utils.Database(str(path))
    db["kernelflow_meta"].create({"key": str, "value": str}, pk="key")
    schema._v1_tracking(db)
    db.execute("INSERT INTO experiments VALUES (0, 'Default', NULL, 'active', 0, 0)")
    db.execute("INSERT INTO kernelflow_meta VALUES ('schema_version', '1')")
    db.execute(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
        "lifecycle_stage, artifact_uri) VALUES ('a' || hex(randomblob(15)), 0, 'old', 'u', "
        "'FINISHED', 1, 'active', '/tmp/x')"
    )
    db.conn.commit()
    db.close()


def test_new_file_gets_current_schema(tmp_path):
    store = SqliteStore(str(tmp_path / "new.db"), str(tmp_path / "art"))
    assert schema.current_version(store.db) == schema.SCHEMA_VERSION
    mode = store.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_older_file_is_migrated_keeping_data(tmp_path):
    path = tmp_path / "old.db"
    _make_v1_file(path)
    store = SqliteStore(str(path), str(tmp_path / "art"))
    assert schema.current_version(store.db) == schema.SCHEMA_VERSION
    assert "registered_models" in store.db.table_names()
    assert "source_notebook" in store.db["runs"].columns_dict
    runs, _ = store.search_runs(["0"])
    assert [r.info.run_name for r in runs] == ["old"]


def test_migrated_file_works_through_the_api(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    _make_v1_file(path)
    kf.set_tracking_uri(str(path))
    try:
        with kf.start_run() as run:
            kf.log_metric("m", 1.0)
        assert kf.get_run(run.info.run_id).data.metrics == {"m": 1.0}
        assert len(kf.search_runs(experiment_ids=["0"])) == 2
    finally:
        kf.flush()
        import kernelflow.config as config

        config._tracking_uri = None


def test_newer_file_is_refused_clearly(tmp_path):
    path = tmp_path / "future.db"
    SqliteStore(str(path), str(tmp_path / "art")).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE kernelflow_meta SET value = '999' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this kernelflow"):
        SqliteStore(str(path), str(tmp_path / "art"))


def test_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a kernelflow tracking file"):
        SqliteStore(str(path), str(tmp_path / "art"))


def test_missing_folder_is_refused_clearly(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        SqliteStore(str(tmp_path / "nope" / "k.db"), str(tmp_path / "art"))


def test_tracking_uri_forms(tmp_path, monkeypatch):
    from kernelflow.config import resolve

    loc = resolve(f"sqlite:///{tmp_path}/a.db")
    assert loc.db_path == str(tmp_path / "a.db")
    assert loc.artifact_root == str(tmp_path / "kernelflow-artifacts")
    monkeypatch.chdir(tmp_path)
    assert resolve("sqlite:///./k.db").db_path == str(tmp_path / "k.db")
    assert resolve("k.db").db_path == str(tmp_path / "k.db")
    assert resolve("http://127.0.0.1:5000/").scheme == "http"
    with pytest.raises(kf.InvalidParameterError, match="not supported"):
        resolve("postgres://x")
    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/env.db")
    import kernelflow.config as config

    config._tracking_uri = None
    assert kf.get_tracking_uri() == f"sqlite:///{tmp_path}/env.db"


def test_every_file_gets_one_stable_store_id(tmp_path):
    a = SqliteStore(str(tmp_path / "a.db"), str(tmp_path / "art"))
    again = SqliteStore(str(tmp_path / "a.db"), str(tmp_path / "art"))
    b = SqliteStore(str(tmp_path / "b.db"), str(tmp_path / "art"))
    assert len(a.store_id) == 32
    assert a.store_id == again.store_id != b.store_id


def test_migrations_are_numbered_without_gaps():
    """Each migration brings the file from N-1 to N: a gap would leave files behind."""
    from kernelflow.store import schema

    assert sorted(schema.MIGRATIONS) == list(range(1, schema.SCHEMA_VERSION + 1))
