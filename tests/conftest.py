"""Shared fixtures: every test gets its own real SQLite tracking file under tmp_path."""

from __future__ import annotations

import os

import pytest
from browser_helpers import browser_fixture, page_fixture  # noqa: F401  (fixtures: browser, page)

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("KERAS_BACKEND", "torch")

# Tests that drive a browser, a real kernel or Ray depend on other processes meeting deadlines
# on two shared cores; only they get one more try, and the run ends with a list of them.
RERUN_MARKERS = ("browser", "notebook", "ray")
_rerun: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(m) for m in RERUN_MARKERS):
            item.add_marker(pytest.mark.flaky(reruns=1))


def pytest_runtest_logreport(report):
    if report.outcome == "rerun":
        _rerun.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _rerun:
        terminalreporter.section("tests that failed once and were run again")
        for nodeid in _rerun:
            terminalreporter.write_line(nodeid)


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    """Point kernelflow at a fresh SQLite file; end any run left active afterwards."""
    import kernelflow
    from kernelflow import fluent

    uri = f"sqlite:///{tmp_path / 'kernelflow.db'}"
    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("KERNELFLOW_ARTIFACT_ROOT", raising=False)
    kernelflow.set_tracking_uri(uri)
    fluent._active_experiment_id = None
    yield uri
    while kernelflow.active_run() is not None:
        kernelflow.end_run()
    kernelflow.flush()
    fluent._active_experiment_id = None
    import kernelflow.config as config

    config._tracking_uri = None
    kernelflow.client.reset_default_client()


@pytest.fixture
def client(tracking_uri):
    """A Client on the fresh tracking file."""
    import kernelflow

    return kernelflow.Client(tracking_uri)


@pytest.fixture
def store(client):
    """The SqliteStore behind the fresh tracking file."""
    from kernelflow.client import get_store

    return get_store(client.tracking_uri)
