"""The command line: every command documented, errors clear."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kernelflow.cli import build_parser, commands, main

_COMMANDS = commands()


def _kf(*args, **kw):
    return subprocess.run([sys.executable, "-m", "kernelflow", *args], capture_output=True,
                          text=True, **kw)


def test_help_lists_every_command():
    out = _kf("--help")
    assert out.returncode == 0
    for name in _COMMANDS:
        assert name in out.stdout


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_every_command_has_help(name):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[name]
    assert sub.description and len(sub.description) > 10
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"{name} {action.dest} has no help text"
    with pytest.raises(SystemExit) as code:
        main([name, "--help"])
    assert code.value.code == 0


def test_experiments_and_runs_commands(tracking_uri):
    import kernelflow as kf

    kf.set_experiment("cli")
    with kf.start_run(run_name="from-cli-test"):
        kf.log_metric("acc", 0.5)
    kf.flush()
    out = _kf("experiments", "--store", tracking_uri)
    assert "cli" in out.stdout and "1 runs" in out.stdout
    out = _kf("runs", "--store", tracking_uri, "--experiment", "cli", "--filter", "metrics.acc > 0.1")
    assert "from-cli-test" in out.stdout
    out = _kf("runs", "--store", tracking_uri, "--experiment", "cli", "--filter", "metrics.acc > 'x'")
    assert out.returncode == 2
    assert "position 14" in out.stderr and "Traceback" not in out.stderr


def test_bad_store_is_a_clear_error(tmp_path):
    out = _kf("experiments", "--store", "postgres://nope")
    assert out.returncode == 2 and "not supported" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_demo_logs_real_runs(tmp_path):
    pytest.importorskip("sklearn")
    out = _kf("demo", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Logged 4 runs" in out.stdout
    assert (tmp_path / "kernelflow.db").exists()
    import kernelflow as kf

    frame = kf.Client(f"sqlite:///{tmp_path}/kernelflow.db").search_runs_columns(["1"])[0]
    assert len(frame["run_id"]) == 4 and all(v > 0.5 for v in frame["metrics.val_acc"])
