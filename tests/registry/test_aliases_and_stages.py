"""Aliases and stages as MLflow's, plus their history (which version, from when to when)."""

from __future__ import annotations

import pytest

import kernelflow
from kernelflow.client import get_store
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError


@pytest.fixture
def three_versions(client, model_uri):
    for _ in range(3):
        kernelflow.register_model(model_uri, "iris")
    return client


def test_alias_points_and_moves(three_versions):
    client = three_versions
    client.set_registered_model_alias("iris", "champion", 1)
    client.set_registered_model_alias("iris", "challenger", "2")
    assert client.get_model_version_by_alias("iris", "champion").version == "1"
    client.set_registered_model_alias("iris", "champion", 3)
    assert client.get_model_version_by_alias("iris", "champion").version == "3"
    assert client.get_registered_model("iris").aliases == {"challenger": "2", "champion": "3"}
    assert client.get_model_version("iris", 3).aliases == ["champion"]
    assert client.get_model_version("iris", 1).aliases == []
    client.delete_registered_model_alias("iris", "champion")
    with pytest.raises(ResourceNotFoundError, match="no alias 'champion'"):
        client.get_model_version_by_alias("iris", "champion")


@pytest.mark.parametrize(
    "alias, message",
    [
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("v12", "reserved"),
        ("V3", "reserved"),
        ("has space", "letters, digits"),
        ("a.b", "letters, digits"),
        ("", "letters, digits"),
        ("champ\n", "letters, digits"),
        ("\nchamp", "letters, digits"),
        ("latest\n", "letters, digits"),
        ("Latest", "reserved"),
        (3, "letters, digits"),
        (None, "letters, digits"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_alias_rules(three_versions, alias, message):
    with pytest.raises(InvalidParameterError, match=message):
        three_versions.set_registered_model_alias("iris", alias, 1)


@pytest.mark.parametrize("alias", ["champion", "v1a", "a-b_c", "latest2", "x" * 255])
def test_allowed_aliases(three_versions, alias):
    three_versions.set_registered_model_alias("iris", alias, 1)
    assert three_versions.get_model_version_by_alias("iris", alias).version == "1"


def test_alias_on_missing_version_is_not_found(three_versions):
    with pytest.raises(ResourceNotFoundError, match="version 7 does not exist"):
        three_versions.set_registered_model_alias("iris", "champion", 7)


def test_stage_transitions_and_archiving(three_versions):
    client = three_versions
    assert client.transition_model_version_stage("iris", 1, "production").current_stage == "Production"
    client.transition_model_version_stage("iris", 2, "Production")
    assert client.get_model_version("iris", 1).current_stage == "Production"  # not archived
    client.transition_model_version_stage("iris", 3, "Production", archive_existing_versions=True)
    stages = {v: client.get_model_version("iris", v).current_stage for v in (1, 2, 3)}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}


def test_invalid_stage_lists_the_valid_ones(three_versions):
    with pytest.raises(InvalidParameterError, match="None, Staging, Production, Archived"):
        three_versions.transition_model_version_stage("iris", 1, "Prod")


def test_alias_history_records_who_held_it_and_when(three_versions):
    client = three_versions
    client.set_registered_model_alias("iris", "champion", 1)
    client.set_registered_model_alias("iris", "champion", 1)  # no change, no new entry
    client.set_registered_model_alias("iris", "champion", 2)
    client.delete_registered_model_alias("iris", "champion")
    client.set_registered_model_alias("iris", "champion", 3)
    history = client.get_alias_history("iris", "champion")
    assert [h.version for h in history] == ["1", "2", "3"]
    assert history[0].end_time is not None and history[0].end_time == history[1].start_time
    assert history[1].end_time is not None and history[1].end_time >= history[1].start_time
    assert history[2].end_time is None
    assert all(h.kind == "alias" and h.label == "champion" for h in history)


def test_stage_history_includes_archiving(three_versions):
    client = three_versions
    client.transition_model_version_stage("iris", 1, "Production")
    client.transition_model_version_stage("iris", 2, "Production", archive_existing_versions=True)
    prod = client.get_stage_history("iris", "production")
    assert [(h.version, h.end_time is None) for h in prod] == [("1", False), ("2", True)]
    archived = client.get_stage_history("iris", "Archived")
    assert [(h.version, h.end_time) for h in archived] == [("1", None)]
    assert len(client.get_model_label_history("iris")) == 3


def test_deleting_a_version_closes_its_history(three_versions):
    client = three_versions
    client.set_registered_model_alias("iris", "champion", 2)
    client.transition_model_version_stage("iris", 2, "Staging")
    client.delete_model_version("iris", 2)
    assert all(h.end_time is not None for h in client.get_model_label_history("iris"))


def test_history_kind_is_checked(three_versions):
    with pytest.raises(InvalidParameterError, match="kind must be"):
        three_versions.get_model_label_history("iris", kind="colour")


@pytest.mark.parametrize("stage", ["Archived", "None", "archived"])
def test_archive_existing_versions_needs_an_active_stage(three_versions, stage):
    client = three_versions
    client.transition_model_version_stage("iris", 1, "Production")
    with pytest.raises(InvalidParameterError, match="not an Active stage.*Staging, Production"):
        client.transition_model_version_stage("iris", 2, stage, archive_existing_versions=True)
    assert client.get_model_version("iris", 1).current_stage == "Production"
    assert client.get_model_version("iris", 2).current_stage == "None"


def test_archive_existing_versions_is_checked_by_the_store(three_versions):
    with pytest.raises(InvalidParameterError, match="not an Active stage"):
        get_store(three_versions.tracking_uri).transition_model_version_stage(
            "iris", 2, "Archived", True)
