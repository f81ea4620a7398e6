"""Model URIs: every form parses, resolves and loads."""

from __future__ import annotations

import numpy as np
import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError
from kernelflow.models.uri import parse_model_uri


@pytest.mark.parametrize(
    "uri, fields",
    [
        ("runs:/abc/model", {"kind": "runs", "run_id": "abc", "path": "model"}),
        ("runs:/abc/a/b", {"kind": "runs", "run_id": "abc", "path": "a/b"}),
        ("models:/iris/3", {"kind": "models", "name": "iris", "version": "3"}),
        ("models:/iris@champion", {"kind": "models", "name": "iris", "alias": "champion"}),
        ("models:/iris/staging", {"kind": "models", "name": "iris", "stage": "Staging"}),
        ("models:/iris/Production", {"kind": "models", "name": "iris", "stage": "Production"}),
        ("models:/iris/latest", {"kind": "models", "name": "iris", "latest": True}),
        ("file:///tmp/m", {"kind": "path", "path": "/tmp/m"}),
        ("some/dir", {"kind": "path", "path": "some/dir"}),
        ("models:/m-0123abcd", {"kind": "logged_model", "model_id": "m-0123abcd"}),
    ],
)
def test_parse(uri, fields):
    parsed = parse_model_uri(uri)
    for key, value in fields.items():
        assert getattr(parsed, key) == value


@pytest.mark.parametrize(
    "uri, message",
    [
        ("models:/iris/champion", "neither a version number"),
        ("models:/@x", "Malformed model URI"),
        ("runs:/", "Malformed run URI"),
        ("s3://bucket/model", "Unsupported model URI scheme 's3'"),
        ("", "non-empty string"),
    ],
)
def test_malformed_uris_say_what_to_write(uri, message):
    with pytest.raises(InvalidParameterError, match=message):
        parse_model_uri(uri)


def double(df):
    return np.asarray(df) * 2


@pytest.fixture
def registered(client, tmp_path):
    """Model 'twice': v1 and v2 logged in runs; v2 is champion and in Production."""
    uris = []
    for factor in (2, 3):
        with kernelflow.start_run():
            info = kernelflow.log_model(lambda df, f=factor: np.asarray(df) * f, "model")
        kernelflow.register_model(info.model_uri, "twice")
        uris.append(info.model_uri)
    client.set_registered_model_alias("twice", "champion", 2)
    client.transition_model_version_stage("twice", 1, "Staging")
    client.transition_model_version_stage("twice", 2, "Production")
    return uris


@pytest.mark.parametrize(
    "uri, factor",
    [
        ("models:/twice/1", 2),
        ("models:/twice/2", 3),
        ("models:/twice@champion", 3),
        ("models:/twice/Staging", 2),
        ("models:/twice/production", 3),
        ("models:/twice/latest", 3),
    ],
)
def test_registry_uris_load_the_right_version(registered, uri, factor):
    assert kernelflow.load_model(uri).predict([[1.0]]).tolist() == [[factor * 1.0]]


def test_runs_uri_and_plain_paths_load(registered, tmp_path):
    model = kernelflow.load_model(registered[0])
    assert model.predict([[2.0]]).tolist() == [[4.0]]
    kernelflow.save_model(double, str(tmp_path / "local"))
    for uri in (str(tmp_path / "local"), f"file://{tmp_path / 'local'}"):
        assert kernelflow.load_model(uri).predict([[1.0]]).tolist() == [[2.0]]


def test_dst_path_copies_the_model(registered, tmp_path):
    model = kernelflow.load_model("models:/twice/1", dst_path=str(tmp_path / "copy"))
    assert model.model_dir.startswith(str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "model" / "MLmodel").exists()


@pytest.mark.parametrize(
    "uri, message",
    [
        ("models:/twice/9", "version 9 does not exist"),
        ("models:/twice@nobody", "has no alias 'nobody'"),
        ("models:/twice/Archived", "has no version in stage 'Archived'"),
        ("models:/nothing/1", "'nothing' does not exist"),
        ("models:/twice", "names no logged model. For a registered model write models:/twice/"),
        ("runs:/0123456789abcdef/model", "0123456789abcdef"),
    ],
)
def test_missing_targets_raise_not_found(registered, uri, message):
    with pytest.raises(ResourceNotFoundError, match=message):
        kernelflow.load_model(uri)


def test_missing_path_raises_not_found(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        kernelflow.load_model(str(tmp_path / "nope"))


def test_logged_model_uri_loads_its_folder(client, tmp_path):
    model = client.create_logged_model("0", name="m")  # as the REST API does for mlflow 3
    kernelflow.save_model(double, model.artifact_location)
    out = kernelflow.load_model(f"models:/{model.model_id}").predict([[1.0]])
    assert out.tolist() == [[2.0]]
