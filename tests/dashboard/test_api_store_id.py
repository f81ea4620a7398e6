"""The server publishes the id of the store it serves, so notebooks can tell servers apart."""

from __future__ import annotations

import requests

import kernelflow


def test_version_endpoint_names_the_store(dashboard_server):
    body = requests.get(f"{dashboard_server.url}/api/2.0/kernelflow/version", timeout=10).json()
    local = kernelflow.Client(dashboard_server.db_uri).store_id
    assert body["store_id"] == local and len(local) == 32
    assert body["kernelflow_version"] == kernelflow.__version__
