"""Fixtures for registry tests: a tiny model logged in a real run."""

from __future__ import annotations

import pytest


def add_one(df):
    """The model used by registry tests: fast to save, no framework needed."""
    return df + 1


@pytest.fixture
def model_uri(tracking_uri):
    """``runs:/<id>/model`` of a small Python-function model."""
    import kernelflow

    with kernelflow.start_run():
        return kernelflow.log_model(add_one, "model").model_uri
