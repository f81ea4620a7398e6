"""Deleting from the registry never deletes the run's artifacts, on every path, and says so."""

from __future__ import annotations

import os

import pytest

import kernelflow
from kernelflow.registry import RegistryClient


@pytest.mark.parametrize("method", ["delete_registered_model", "delete_model_version"])
def test_docstrings_say_artifacts_are_kept(method):
    doc = getattr(RegistryClient, method).__doc__
    assert "never deletes the run's artifacts" in doc
    assert "delete_run" in doc  # and what to do to free the space


def test_delete_version_says_the_files_were_kept(client, model_uri, capsys):
    mv = kernelflow.register_model(model_uri, "iris")
    capsys.readouterr()
    assert client.delete_model_version("iris", 1) is None
    err = capsys.readouterr().err
    assert "version 1 of 'iris'" in err and "model files were kept" in err
    assert os.path.exists(os.path.join(mv.storage_location, "MLmodel"))


def test_rest_deletes_keep_the_artifacts(client, model_uri):
    from kernelflow_dashboard.api import registry as endpoints
    from kernelflow_dashboard.api.request import Params
    from kernelflow_dashboard.api.service import Api

    files = [kernelflow.register_model(model_uri, "iris").storage_location for _ in range(2)]
    api = Api.for_client(client)
    assert endpoints.delete_model_version(api, Params({"name": "iris", "version": "1"})) == {}
    assert endpoints.delete_registered_model(api, Params({"name": "iris"})) == {}
    assert not client.search_registered_models()
    assert all(os.path.exists(os.path.join(f, "MLmodel")) for f in files)
    assert kernelflow.load_model(model_uri).predict([[1.0]]).tolist() == [[2.0]]
