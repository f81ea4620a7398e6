"""Issue 15, durability as the README states it: a commit is synced to disk (WAL with
``synchronous = FULL``), so what ``end_run()`` and sync logging promise survives power
loss, not only a killed process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_store_connection_syncs_each_commit(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL


@pytest.mark.parametrize("level, expected", [("normal", "1"), ("EXTRA", "3"), ("fast", "error")])
def test_synchronous_level_can_be_chosen(tmp_path, level, expected):
    code = ("import sys, kernelflow\n"
            "from kernelflow.errors import StoreError\n"
            "try:\n"
            "    c = kernelflow.Client(sys.argv[1])\n"
            "    c.search_experiments()\n"
            "except StoreError as exc:\n"
            "    print('error', exc)\n"
            "else:\n"
            "    from kernelflow.store import SqliteStore\n"
            "    s = SqliteStore(sys.argv[2], sys.argv[3])\n"
            "    print(s.conn.execute('PRAGMA synchronous').fetchone()[0])\n")
    db = tmp_path / "k.db"
    done = subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{db}", str(db), str(tmp_path / "art")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "KERNELFLOW_SQLITE_SYNCHRONOUS": level})
    assert done.stdout.split()[0] == expected, done.stderr[-2000:]
    if expected == "error":
        assert "KERNELFLOW_SQLITE_SYNCHRONOUS" in done.stdout and "FULL" in done.stdout


SCRIPT = textwrap.dedent("""
    import os, sys
    import kernelflow as kf

    def mark(text):
        os.write(1, text.encode())

    kf.set_tracking_uri("sqlite:///" + sys.argv[1])
    kf.start_run(run_name="durable")
    for i in range(200):
        kf.log_metric("loss", 0.5, step=i)
    mark("<end_run>")
    kf.end_run()
    mark("</end_run>")
    kf.start_run(run_name="sync")
    kf.set_sync_logging(True)
    mark("<sync>")
    kf.log_metric("acc", 0.9, step=0)
    mark("</sync>")
    os._exit(0)  # no close: a clean shutdown's checkpoint would sync anyway
""")


def _syncs_between(trace: str, start: str, end: str, wal_fds: set[str]) -> int:
    section = trace.split(start, 1)[1].split(end, 1)[0]
    return sum(1 for fd in re.findall(r"f(?:data)?sync\((\d+)\)\s+=\s+0", section) if fd in wal_fds)


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_end_run_and_sync_logging_reach_the_disk(tmp_path):
    script = tmp_path / "log.py"
    script.write_text(SCRIPT)
    trace_file = tmp_path / "trace.txt"
    db = tmp_path / "durable.db"
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=openat,fsync,fdatasync,write", "-e", "write=1",
         "-o", str(trace_file), sys.executable, str(script), str(db)],
        capture_output=True, text=True, timeout=180)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    trace = trace_file.read_text(errors="replace")
    wal_fds = set(re.findall(rf'openat\(AT_FDCWD, "{re.escape(str(db))}-wal".*= (\d+)', trace))
    assert wal_fds, trace[-2000:]
    assert _syncs_between(trace, "<end_run>", "</end_run>", wal_fds) >= 1
    assert _syncs_between(trace, "<sync>", "</sync>", wal_fds) >= 1
