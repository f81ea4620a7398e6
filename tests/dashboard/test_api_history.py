"""Alias and stage history over HTTP (kernelflow's extension endpoint and RestStore), and
the versions the server reports to MLflow's client and to kernelflow."""

from __future__ import annotations

import pytest
import requests

import kernelflow
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError

HISTORY = "/api/2.0/kernelflow/registered-models/label-history"


def _spans(changes) -> list[tuple[str, str, str, bool]]:
    """(kind, label, version, still holds) of each change, oldest first."""
    return [(c.kind, c.label, c.version, c.end_time is None) for c in changes]


@pytest.mark.mlflow
def test_alias_and_stage_history_over_http(mlflow_env, dashboard_server):
    client = mlflow_env.MlflowClient()
    client.create_registered_model("history-model")
    for _ in range(2):
        client.create_model_version("history-model", "s3://bucket/model")
    client.set_registered_model_alias("history-model", "champion", "1")
    client.set_registered_model_alias("history-model", "champion", "2")
    client.set_registered_model_alias("history-model", "challenger", "1")
    client.delete_registered_model_alias("history-model", "challenger")
    client.transition_model_version_stage("history-model", "1", "Production")
    client.transition_model_version_stage("history-model", "2", "Production",
                                          archive_existing_versions=True)

    remote = kernelflow.Client(dashboard_server.url)
    champion = remote.get_alias_history("history-model", "champion")
    assert _spans(champion) == [("alias", "champion", "1", False),
                                ("alias", "champion", "2", True)]
    assert champion[0].end_time >= champion[0].start_time
    assert _spans(remote.get_alias_history("history-model")) == _spans(champion) + [
        ("alias", "challenger", "1", False)]
    production = remote.get_stage_history("history-model", "Production")
    assert _spans(production) == [("stage", "Production", "1", False),
                                  ("stage", "Production", "2", True)]
    local = kernelflow.Client(dashboard_server.db_uri)
    assert remote.get_model_label_history("history-model") == \
        local.get_model_label_history("history-model")


def test_history_errors(dashboard_server):
    remote = kernelflow.Client(dashboard_server.url)
    with pytest.raises(ResourceNotFoundError):
        remote.get_alias_history("no-such-model")
    bad_kind = requests.get(dashboard_server.url + HISTORY,
                            params={"name": "x", "kind": "tag"}, timeout=30)
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["message"]
    no_name = requests.get(dashboard_server.url + HISTORY, timeout=30)
    assert no_name.status_code == 400 and "'name'" in no_name.json()["message"]
    with pytest.raises(InvalidParameterError, match="kind"):
        remote.get_model_label_history("x", kind="tag")


# -- versions ------------------------------------------------------------------------
@pytest.mark.mlflow
def test_mlflow_client_sees_a_current_server(mlflow_env, dashboard_server):
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds
    from packaging.version import Version

    seen = RestStore._get_server_version(MlflowHostCreds(dashboard_server.url))
    assert seen is not None and seen >= Version("3.4")


def test_kernelflow_version_stays_visible(dashboard_server):
    info = requests.get(dashboard_server.url + "/api/2.0/kernelflow/version", timeout=30)
    assert info.json()["kernelflow_version"] == kernelflow.__version__
    assert info.headers["X-Kernelflow-Version"] == kernelflow.__version__
    runs = requests.post(dashboard_server.url + "/api/2.0/mlflow/runs/search", json={},
                         timeout=30)
    assert runs.headers["X-Kernelflow-Version"] == kernelflow.__version__


def test_otlp_spans_are_accepted_and_a_bad_body_is_a_json_error(dashboard_server):
    # /v1/traces ingests OTLP spans (tests/tracing/test_tracing_http.py); garbage is a 400.
    resp = requests.post(dashboard_server.url + "/v1/traces", data=b"\xff\x00garbage",
                         headers={"Content-Type": "application/x-protobuf"}, timeout=30)
    assert resp.status_code == 400
    assert "OTLP" in resp.json()["message"]
