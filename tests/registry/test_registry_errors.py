"""Wrong types for registry arguments are InvalidParameterErrors that say what to pass."""

from __future__ import annotations

import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError


@pytest.fixture
def registered(client, model_uri):
    kernelflow.register_model(model_uri, "iris")
    return client


@pytest.mark.parametrize("method", ["search_model_versions", "search_registered_models"])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filter_string": 3}, "filter_string must be a string"),
        ({"order_by": "name"}, "order_by must be a list"),
        ({"order_by": [3]}, "order_by must be a list"),
        ({"page_token": 5}, "page_token"),
    ],
)
def test_search_argument_types(registered, method, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        getattr(registered, method)(**kwargs)


@pytest.mark.parametrize("tags", [["a"], "a=b", 3])
def test_tags_must_be_a_dict(registered, model_uri, tags):
    with pytest.raises(InvalidParameterError, match="tags must be a dict"):
        kernelflow.register_model(model_uri, "iris", tags=tags)
    with pytest.raises(InvalidParameterError, match="tags must be a dict"):
        registered.create_registered_model("other", tags=tags)
    with pytest.raises(InvalidParameterError, match="tags must be a dict"):
        registered.create_model_version("iris", model_uri, tags=tags)


@pytest.mark.parametrize("alias", [3, None, ""])
def test_alias_lookups_need_a_string(registered, alias):
    with pytest.raises(InvalidParameterError, match="alias"):
        registered.get_model_version_by_alias("iris", alias)
    with pytest.raises(InvalidParameterError, match="alias"):
        registered.delete_registered_model_alias("iris", alias)


def test_deleting_a_tag_needs_a_key(registered):
    with pytest.raises(InvalidParameterError, match="tag key"):
        registered.delete_registered_model_tag("iris", None)
    with pytest.raises(InvalidParameterError, match="tag key"):
        registered.delete_model_version_tag("iris", 1, 3)


def test_description_must_be_text(registered):
    with pytest.raises(InvalidParameterError, match="description must be a string"):
        registered.update_registered_model("iris", description=3)
    with pytest.raises(InvalidParameterError, match="description must be a string"):
        registered.update_model_version("iris", 1, description=["x"])


def test_stages_must_be_a_list(registered):
    with pytest.raises(InvalidParameterError, match="stages must be a list"):
        registered.get_latest_versions("iris", stages="Production")


def test_archive_existing_versions_must_be_a_bool(registered):
    registered.transition_model_version_stage("iris", 1, "Production")
    with pytest.raises(InvalidParameterError, match="archive_existing_versions must be True or False"):
        registered.transition_model_version_stage("iris", 1, "Staging", archive_existing_versions="no")
    assert registered.get_model_version("iris", 1).current_stage == "Production"


@pytest.mark.parametrize("method", ["search_model_versions", "search_registered_models"])
@pytest.mark.parametrize("max_results", [0, "5", 100_001])
def test_max_results_rules_are_the_clients(registered, method, max_results):
    with pytest.raises(InvalidParameterError, match="max_results must be between 1 and 100000"):
        getattr(registered, method)(max_results=max_results)


def test_version_user_is_the_clients_user(registered):
    import inspect

    from kernelflow import client as client_module
    from kernelflow import registry

    source = inspect.getsource(registry)
    assert "def _user" not in source and "def _check_max" not in source  # one of each, in client.py
    assert registered.get_model_version("iris", 1).user_id == client_module._user()
