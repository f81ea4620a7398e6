"""Model versions: register, read, search, update, delete, tags, latest."""

from __future__ import annotations

import os

import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError


def test_register_model_numbers_versions_from_one(client, model_uri):
    versions = [kernelflow.register_model(model_uri, "iris").version for _ in range(3)]
    assert versions == ["1", "2", "3"]
    mv = client.get_model_version("iris", "2")
    run_id = model_uri.split("/")[1]
    assert mv.source == model_uri and mv.run_id == run_id
    assert mv.status == "READY" and mv.current_stage == "None"
    assert os.path.exists(os.path.join(mv.storage_location, "MLmodel"))


def test_register_refuses_a_uri_without_a_model(client, tmp_path):
    with pytest.raises(ResourceNotFoundError, match="no MLmodel file"):
        kernelflow.register_model(str(tmp_path), "iris")


def test_create_model_version_needs_an_existing_model(client, model_uri):
    with pytest.raises(ResourceNotFoundError, match="'iris' does not exist"):
        client.create_model_version("iris", model_uri)
    client.create_registered_model("iris")
    mv = client.create_model_version("iris", model_uri, run_id="r1", tags={"a": "b"}, description="d")
    assert (mv.version, mv.tags, mv.description, mv.run_id) == ("1", {"a": "b"}, "d", "r1")


@pytest.mark.parametrize("version", [0, -1, "x", "1.5", None, True])
def test_invalid_versions_are_refused(client, model_uri, version):
    kernelflow.register_model(model_uri, "iris")
    with pytest.raises(InvalidParameterError, match="Invalid model version"):
        client.get_model_version("iris", version)


def test_update_description_and_tags(client, model_uri):
    kernelflow.register_model(model_uri, "iris")
    assert client.update_model_version("iris", 1, description="good").description == "good"
    client.set_model_version_tag("iris", 1, "validated", True)
    assert client.get_model_version("iris", 1).tags == {"validated": "True"}
    client.delete_model_version_tag("iris", 1, "validated")
    assert client.get_model_version("iris", 1).tags == {}


def test_deleted_version_number_is_never_reused(client, model_uri):
    for _ in range(2):
        kernelflow.register_model(model_uri, "iris")
    client.set_registered_model_alias("iris", "champion", 2)
    client.delete_model_version("iris", 2)
    with pytest.raises(ResourceNotFoundError, match="version 2 does not exist"):
        client.get_model_version("iris", 2)
    assert client.get_registered_model("iris").aliases == {}
    assert kernelflow.register_model(model_uri, "iris").version == "3"
    assert [v.version for v in client.search_model_versions("name = 'iris'")] == ["3", "1"]


def test_delete_version_keeps_files(client, model_uri):
    mv = kernelflow.register_model(model_uri, "iris")
    client.delete_model_version("iris", 1)
    assert os.path.exists(os.path.join(mv.storage_location, "MLmodel"))


def test_search_versions(client, tracking_uri):
    uris = []
    for _ in range(2):
        with kernelflow.start_run():
            uris.append(kernelflow.log_model(lambda df: df, "m").model_uri)
    for uri in uris:
        kernelflow.register_model(uri, "a")
    kernelflow.register_model(uris[0], "b", tags={"env": "prod"})
    run0 = uris[0].split("/")[1]
    key = lambda vs: [(v.name, v.version) for v in vs]  # noqa: E731
    assert key(client.search_model_versions(f"run_id = '{run0}'")) == [("a", "1"), ("b", "1")]
    assert key(client.search_model_versions("name = 'a' AND version_number > 1")) == [("a", "2")]
    assert key(client.search_model_versions("tags.env = 'prod'")) == [("b", "1")]
    assert key(client.search_model_versions(f"run_id IN ('{run0}', 'zzz') AND name = 'a'")) == [("a", "1")]
    assert key(client.search_model_versions("name = 'a'", order_by=["version_number ASC"])) == [("a", "1"), ("a", "2")]
    page = client.search_model_versions(max_results=2)
    assert len(page) == 2 and len(client.search_model_versions(page_token=page.token)) == 1


def test_latest_versions_per_stage(client, model_uri):
    for _ in range(4):
        kernelflow.register_model(model_uri, "iris")
    client.transition_model_version_stage("iris", 1, "Production")
    client.transition_model_version_stage("iris", 2, "Staging")
    latest = {v.current_stage: v.version for v in client.get_latest_versions("iris")}
    assert latest == {"Production": "1", "Staging": "2", "None": "4"}
    assert [v.version for v in client.get_latest_versions("iris", stages=["staging"])] == ["2"]
    model = client.get_registered_model("iris")
    assert sorted(v.version for v in model.latest_versions) == ["1", "2", "4"]


def test_copy_model_version(client, model_uri):
    kernelflow.register_model(model_uri, "dev")
    client.set_registered_model_alias("dev", "best", 1)
    copy = client.copy_model_version("models:/dev@best", "prod")
    assert (copy.name, copy.version, copy.source) == ("prod", "1", model_uri)
