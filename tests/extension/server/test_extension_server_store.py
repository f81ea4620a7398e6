"""Which store the server extension picks when the user has not chosen one."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def jp_server_config(monkeypatch):
    monkeypatch.delenv("KERNELFLOW_TRACKING_URI", raising=False)
    return {"ServerApp": {"jpserver_extensions": {"kernelflow_lab": True}}}


async def test_the_default_store_is_in_the_servers_root_and_kernels_log_there(
        jp_fetch, jp_root_dir):
    expected = f"sqlite:///{jp_root_dir / 'kernelflow.db'}"
    body = json.loads((await jp_fetch("kernelflow-lab", "info")).body)
    assert body["store"] == expected
    # kernels inherit these: notebooks in any folder log to the store the panel shows
    assert os.environ["KERNELFLOW_TRACKING_URI"] == expected
    assert os.environ["KERNELFLOW_LAB_STORE"] == expected

