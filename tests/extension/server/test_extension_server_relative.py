"""A relative KERNELFLOW_TRACKING_URI is made absolute for the kernels Lab starts."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def relative_store(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERNELFLOW_TRACKING_URI", "sqlite:///runs/team.db")
    return f"sqlite:///{tmp_path / 'runs' / 'team.db'}"


@pytest.fixture
def jp_server_config(relative_store):
    return {"ServerApp": {"jpserver_extensions": {"kernelflow_lab": True}}}


async def test_a_relative_tracking_uri_is_made_absolute_for_kernels(relative_store, jp_fetch):
    # kernels run in each notebook's folder: a relative path would be another file there
    body = json.loads((await jp_fetch("kernelflow-lab", "info")).body)
    assert body["store"] == relative_store
    assert os.environ["KERNELFLOW_TRACKING_URI"] == relative_store
