"""Autolog patches frameworks process-wide: every test turns it off again."""

from __future__ import annotations

import pytest


@pytest.fixture
def autolog(tracking_uri):
    """Enable autolog on a fresh tracking file; disable it after the test."""
    import kernelflow

    yield kernelflow.autolog
    kernelflow.autolog(disable=True)


@pytest.fixture
def runs(client):
    """A function returning all runs of the default experiment, oldest first."""

    def all_runs():
        return list(client.search_runs(["0"], order_by=["attributes.start_time ASC"]))

    return all_runs
