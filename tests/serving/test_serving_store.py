"""Deployments in the store, through the public Client API (no Ray)."""

from __future__ import annotations

import pytest

import kernelflow
from kernelflow.store import schema


def test_record_inserts_then_updates_only_the_given_fields(client):
    dep = client.record_deployment("digits", "models:/digits@champion", model_name="digits",
                                   model_version=3, alias="champion", replicas=2,
                                   url="http://127.0.0.1:8000")
    assert isinstance(dep, kernelflow.Deployment)
    assert (dep.status, dep.model_version, dep.replicas) == ("STARTING", "3", "2")
    assert dep.created_time and dep.updated_time >= dep.created_time
    later = client.record_deployment("digits", status="RUNNING", model_version=4)
    assert (later.status, later.model_version, later.alias, later.url) == (
        "RUNNING", "4", "champion", "http://127.0.0.1:8000")
    assert later.created_time == dep.created_time
    assert client.get_deployment("digits") == later


def test_list_is_newest_first_and_delete_forgets(client):
    client.record_deployment("a", "models:/a/1", updated_time=1000)
    client.record_deployment("b", "models:/b/1", updated_time=2000)
    assert [d.name for d in client.list_deployments()] == ["b", "a"]
    client.delete_deployment("b")
    assert [d.name for d in client.list_deployments()] == ["a"]
    with pytest.raises(kernelflow.ResourceNotFoundError, match="known: a"):
        client.get_deployment("b")
    with pytest.raises(kernelflow.ResourceNotFoundError):
        client.delete_deployment("b")


@pytest.mark.parametrize("call, match", [
    (lambda c: c.record_deployment("", "models:/a/1"), "non-empty"),
    (lambda c: c.record_deployment("new"), "model URI"),
    (lambda c: c.record_deployment("x", "models:/a/1", status="DANCING"), "DANCING"),
    (lambda c: c.record_deployment("x", "models:/a/1", colour="red"), "colour"),
])
def test_bad_records_are_clear_errors(client, call, match):
    with pytest.raises(kernelflow.InvalidParameterError, match=match):
        call(client)
    assert client.list_deployments() == []


def test_the_table_comes_with_migration_9(client):
    assert 9 in schema.MIGRATIONS and schema.SCHEMA_VERSION >= 9
    assert client.record_deployment("x", "models:/a/1").to_dict()["name"] == "x"


def test_a_second_process_sees_the_same_rows(tracking_uri):
    import subprocess
    import sys

    kernelflow.Client(tracking_uri).record_deployment("shared", "models:/a/1", status="RUNNING")
    code = ("import kernelflow, sys; d = kernelflow.Client(sys.argv[1]).get_deployment('shared');"
            "print(d.status)")
    out = subprocess.run([sys.executable, "-c", code, tracking_uri], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "RUNNING"
