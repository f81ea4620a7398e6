"""The asynchronous batched writer: latency, batching, durability and errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

import kernelflow as kf
from kernelflow.errors import LoggingError
from kernelflow.ops import SetParam
from kernelflow.writer import Writer


def _chunks(store, run_id):
    return store.query("SELECT count(*), coalesce(sum(n), 0) FROM metric_chunks WHERE run_uuid = ?",
                       [run_id])[0]


def test_log_returns_before_commit_and_flush_commits(store):
    run = store.create_run("0", "u", None, "r")
    writer = Writer(store, interval=60)
    for i in range(100):
        writer.log_metric(run.info.run_id, "m", float(i), 1000 + i, i)
    assert writer.pending() == 100
    assert _chunks(store, run.info.run_id) == (0, 0)
    writer.flush()
    assert writer.pending() == 0
    assert _chunks(store, run.info.run_id) == (1, 100)  # one batch, one chunk row
    writer.close()


def test_background_thread_commits_within_the_interval(store):
    run = store.create_run("0", "u", None, "r")
    writer = Writer(store, interval=0.05)
    writer.log_metric(run.info.run_id, "m", 1.0, 1, 0)
    deadline = time.monotonic() + 5
    while _chunks(store, run.info.run_id)[1] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _chunks(store, run.info.run_id)[1] == 1
    writer.close()


class FlakyStore:
    """Wraps a real store; its first ``fail`` commits raise (a full disk, say)."""

    def __init__(self, store, fail: int) -> None:
        self.store, self.fail = store, fail

    def write_batch(self, ops, metrics):
        if self.fail:
            self.fail -= 1
            raise OSError("disk full")
        return self.store.write_batch(ops, metrics)


def test_commit_error_surfaces_on_next_call_and_nothing_is_lost(store):
    run = store.create_run("0", "u", None, "r")
    writer = Writer(FlakyStore(store, fail=1), interval=60)
    writer.log_metric(run.info.run_id, "m", 1.0, 1, 0)
    writer.add_ops([SetParam(run.info.run_id, "p", "v")])
    with pytest.raises(LoggingError, match="disk full"):
        writer.flush()
    writer.log_metric(run.info.run_id, "m", 2.0, 2, 1)  # the error was reported once
    writer.flush()  # the retry commits everything, in order
    hist = store.get_metric_history(run.info.run_id, "m")
    assert [m.value for m in hist] == [1.0, 2.0]
    assert store.get_params(run.info.run_id) == {"p": "v"}
    writer.close()


def test_error_raised_by_the_next_log_call(store):
    run = store.create_run("0", "u", None, "r")
    writer = Writer(FlakyStore(store, fail=1), interval=60)
    writer.log_metric(run.info.run_id, "m", 1.0, 1, 0)
    writer._commit()  # what the background thread does
    with pytest.raises(LoggingError):
        writer.log_metric(run.info.run_id, "m", 2.0, 2, 1)
    writer.flush()
    assert len(store.get_metric_history(run.info.run_id, "m")) == 1
    writer.close()


def test_param_conflict_from_another_process_is_reported(tracking_uri):
    from kernelflow.store import SqliteStore

    with kf.start_run() as run:
        # another process (its own store and client, which read the run's params earlier)
        # logs p with another value after this one did
        db_path = tracking_uri.removeprefix("sqlite:///")
        other = kf.Client(tracking_uri, store=SqliteStore(db_path, kf.Client().artifact_root))
        other.log_param(run.info.run_id, "q", "theirs", synchronous=True)
        kf.log_param("p", "mine")
        kf.flush()
        other.log_param(run.info.run_id, "p", "theirs")
        with pytest.raises(LoggingError, match="params cannot change"):
            other.flush()
    assert kf.get_run(run.info.run_id).data.params == {"p": "mine", "q": "theirs"}


def _python(code: str, uri: str, **kw) -> subprocess.Popen:
    env_code = f"import os; os.environ['KERNELFLOW_TRACKING_URI'] = {uri!r}\n"
    return subprocess.Popen([sys.executable, "-c", env_code + textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True, **kw)


def test_interpreter_exit_flushes(tracking_uri):
    proc = _python(
        """
        import kernelflow as kf
        run = kf.start_run()
        print(run.info.run_id, flush=True)
        for i in range(5000):
            kf.log_metric("m", i, step=i)
        # no end_run, no flush: exit must drain the queue
        """,
        tracking_uri,
    )
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert len(kf.get_metric_history(out.strip(), "m")) == 5000


class PickyStore:
    """Wraps a real store; refuses (as a data error) any batch holding metric key "bad"."""

    def __init__(self, store) -> None:
        self.store = store

    def write_batch(self, ops, metrics):
        if any(key == "bad" for _, key in metrics):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return self.store.write_batch(ops, metrics)


def test_one_unstorable_item_neither_jams_the_queue_nor_takes_good_data(store):
    run = store.create_run("0", "u", None, "r")
    rid = run.info.run_id
    writer = Writer(PickyStore(store), interval=60)
    writer.log_metric(rid, "good", 1.0, 1, 0)
    writer.log_metric(rid, "bad", 1.0, 1, 0)
    writer.add_ops([SetParam(rid, "p", "v")])
    with pytest.raises(LoggingError, match="could not be stored") as err:
        writer.flush()
    assert "rest was saved" in str(err.value)
    assert len(store.get_metric_history(rid, "good")) == 1
    assert store.get_params(rid) == {"p": "v"}
    writer.log_metric(rid, "good", 2.0, 2, 1)
    writer.flush()  # the queue is not jammed
    assert len(store.get_metric_history(rid, "good")) == 2
    writer.close()


def test_exit_ends_active_runs_finished(tracking_uri):
    proc = _python(
        """
        import kernelflow as kf
        run = kf.start_run()
        print(run.info.run_id, flush=True)
        kf.log_metric("m", 1.0)
        """,
        tracking_uri,
    )
    out, _ = proc.communicate(timeout=60)
    run = kf.get_run(out.strip())
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 1.0}
