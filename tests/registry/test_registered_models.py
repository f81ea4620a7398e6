"""Registered models: create, read, search, update, rename, delete, tags."""

from __future__ import annotations

import os

import pytest

import kernelflow
from kernelflow.errors import (
    FilterSyntaxError,
    InvalidParameterError,
    ResourceExistsError,
    ResourceNotFoundError,
)


def test_create_and_get(client):
    created = client.create_registered_model("iris", tags={"team": "ml"}, description="flowers")
    got = client.get_registered_model("iris")
    assert got.name == created.name == "iris"
    assert got.tags == {"team": "ml"} and got.description == "flowers"
    assert got.creation_timestamp and got.latest_versions == [] and got.aliases == {}


def test_duplicate_name_is_refused(client):
    client.create_registered_model("iris")
    with pytest.raises(ResourceExistsError, match="'iris' already exists"):
        client.create_registered_model("iris")


@pytest.mark.parametrize("name", ["", "a/b", "a@b", None, "x" * 300])
def test_invalid_names_are_refused(client, name):
    with pytest.raises(InvalidParameterError, match="name"):
        client.create_registered_model(name)


def test_missing_model_is_not_found(client):
    with pytest.raises(ResourceNotFoundError, match="'ghost' does not exist"):
        client.get_registered_model("ghost")


def test_update_description_and_tags(client):
    client.create_registered_model("iris")
    assert client.update_registered_model("iris", description="v2").description == "v2"
    client.set_registered_model_tag("iris", "stage", "beta")
    client.set_registered_model_tag("iris", "stage", "ga")
    assert client.get_registered_model("iris").tags == {"stage": "ga"}
    client.delete_registered_model_tag("iris", "stage")
    assert client.get_registered_model("iris").tags == {}
    with pytest.raises(ResourceNotFoundError, match="no tag 'stage'"):
        client.delete_registered_model_tag("iris", "stage")


def test_search_filters_orders_and_pages(client):
    for name in ("iris-a", "iris-b", "wine", "Iris-c"):
        client.create_registered_model(name, tags={"team": "ml" if "iris" in name.lower() else "x"})
    names = lambda ms: [m.name for m in ms]  # noqa: E731
    assert names(client.search_registered_models("name LIKE 'iris%'")) == ["iris-a", "iris-b"]
    assert names(client.search_registered_models("name ILIKE 'iris%'")) == ["Iris-c", "iris-a", "iris-b"]
    assert names(client.search_registered_models("name = 'wine'")) == ["wine"]
    assert names(client.search_registered_models("tags.team = 'x'")) == ["wine"]
    assert names(client.search_registered_models(order_by=["name DESC"]))[0] == "wine"
    first = client.search_registered_models(max_results=3)
    second = client.search_registered_models(max_results=3, page_token=first.token)
    assert len(first) == 3 and names(second) == ["wine"] and second.token is None


def test_bad_filter_points_at_the_problem(client):
    with pytest.raises(FilterSyntaxError, match="unknown key 'colour'"):
        client.search_registered_models("colour = 'red'")
    with pytest.raises(FilterSyntaxError, match="order_by"):
        client.search_registered_models(order_by=["size DESC"])


def test_rename_moves_versions_aliases_and_tags(client, model_uri):
    kernelflow.register_model(model_uri, "old", tags={"k": "v"})
    client.set_registered_model_alias("old", "champion", 1)
    client.set_registered_model_tag("old", "team", "ml")
    renamed = client.rename_registered_model("old", "new")
    assert renamed.name == "new" and renamed.tags == {"team": "ml"}
    assert renamed.aliases == {"champion": "1"}
    assert client.get_model_version("new", 1).tags == {"k": "v"}
    assert kernelflow.load_model("models:/new@champion") is not None
    with pytest.raises(ResourceNotFoundError):
        client.get_registered_model("old")


def test_rename_onto_existing_name_is_refused(client):
    client.create_registered_model("a")
    client.create_registered_model("b")
    with pytest.raises(ResourceExistsError, match="already exists"):
        client.rename_registered_model("a", "b")


def test_delete_keeps_the_run_artifacts(client, model_uri, capsys):
    mv = kernelflow.register_model(model_uri, "iris")
    files = mv.storage_location
    capsys.readouterr()
    assert client.delete_registered_model("iris") is None  # as MLflow's
    assert "the model files in its runs' artifacts were kept" in capsys.readouterr().err
    with pytest.raises(ResourceNotFoundError):
        client.get_registered_model("iris")
    assert os.path.exists(os.path.join(files, "MLmodel"))
    assert kernelflow.load_model(model_uri).predict([[1.0]]).tolist() == [[2.0]]
    assert kernelflow.register_model(model_uri, "iris").version == "1"  # a new model starts again
