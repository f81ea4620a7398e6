"""Client-supplied artifact locations and model sources: the server reads and writes only under
its artifact root (locations elsewhere are kept as given, as MLflow keeps them)."""

from __future__ import annotations

import pytest
import requests

API = "/api/2.0/mlflow"


def call(server, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}{API}/{endpoint}", timeout=30, **kwargs)


def _refused(resp: requests.Response) -> str:
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    return resp.json()["message"]


@pytest.mark.parametrize("location", [
    "/tmp/outside", "file:///tmp/outside", "s3://bucket/x", "relative/place",
])
def test_experiment_location_outside_the_root_is_kept_but_not_served(dashboard_server, location):
    """As MLflow: any location is stored as given (a relative path made absolute against the
    server's folder); the server refuses only to read it, at artifact access."""
    resp = call(dashboard_server, "POST", "experiments/create",
                json={"name": f"out-{location}", "artifact_location": location})
    assert resp.status_code == 200, resp.text
    exp = call(dashboard_server, "GET", "experiments/get-by-name",
               params={"experiment_name": f"out-{location}"}).json()["experiment"]
    shown = exp["artifact_location"]
    assert shown == location if location != "relative/place" else shown.endswith("/" + location)
    run = call(dashboard_server, "POST", "runs/create",
               json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]
    assert run["artifact_uri"] == f"{shown}/{run['run_id']}/artifacts"
    message = _refused(call(dashboard_server, "GET", "artifacts/list",
                            params={"run_id": run["run_id"]}))
    assert "outside this server's artifact root" in message


def test_experiment_location_escaping_the_root_through_mlflow_artifacts_is_refused(
        dashboard_server):
    resp = call(dashboard_server, "POST", "experiments/create",
                json={"name": "out-dots", "artifact_location": "mlflow-artifacts:/../outside"})
    _refused(resp)


def test_experiment_location_symlinked_out_of_the_root_is_refused(dashboard_server, tmp_path):
    dashboard_server.artifact_root.mkdir(parents=True, exist_ok=True)
    (dashboard_server.artifact_root / "exit").symlink_to(tmp_path)
    resp = call(dashboard_server, "POST", "experiments/create",
                json={"name": "via-link", "artifact_location": "mlflow-artifacts:/exit/x"})
    _refused(resp)


@pytest.mark.parametrize("location", ["mlflow-artifacts:/custom/place", "{root}/custom/abs"])
def test_locations_under_the_root_are_kept_and_shown_as_mlflow_artifacts(dashboard_server,
                                                                         location):
    location = location.format(root=dashboard_server.artifact_root)
    name = f"in-{location[-5:]}"
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": name, "artifact_location": location}).json()["experiment_id"]
    exp = call(dashboard_server, "GET", "experiments/get",
               params={"experiment_id": exp_id}).json()["experiment"]
    assert exp["artifact_location"] == "mlflow-artifacts:/custom/" + location.rsplit("/", 1)[1]
    run = call(dashboard_server, "POST", "runs/create", json={"experiment_id": exp_id}).json()
    assert run["run"]["info"]["artifact_uri"].startswith("mlflow-artifacts:/custom/")


@pytest.mark.parametrize("source", ["/etc", "file:///etc", "{root}/../outside",
                                    "runs:/{run}/../../../../etc", "mlflow-artifacts:/../x"])
def test_model_version_source_outside_the_root_is_refused(dashboard_server, source):
    exp_id = call(dashboard_server, "POST", "experiments/create",
                  json={"name": f"mv-src-{len(source)}-{source[:3]}"}).json()["experiment_id"]
    run_id = call(dashboard_server, "POST", "runs/create",
                  json={"experiment_id": exp_id}).json()["run"]["info"]["run_id"]
    source = source.format(root=dashboard_server.artifact_root, run=run_id)
    call(dashboard_server, "POST", "registered-models/create", json={"name": "leak"})
    resp = call(dashboard_server, "POST", "model-versions/create",
                json={"name": "leak", "source": source})
    _refused(resp)
    versions = call(dashboard_server, "GET", "model-versions/search",
                    params={"filter": "name = 'leak'"}).json()
    assert versions.get("model_versions", []) == []


def test_model_version_source_under_the_root_downloads_as_mlflow_artifacts(dashboard_server):
    call(dashboard_server, "POST", "registered-models/create", json={"name": "inside"})
    made = call(dashboard_server, "POST", "model-versions/create",
                json={"name": "inside", "source": "mlflow-artifacts:/models/inside"})
    assert made.status_code == 200, made.text
    uri = call(dashboard_server, "GET", "model-versions/get-download-uri",
               params={"name": "inside", "version": "1"}).json()["artifact_uri"]
    assert uri == "mlflow-artifacts:/models/inside"


def test_remote_model_version_source_is_kept_as_a_pointer(dashboard_server):
    """As MLflow: an ``s3://`` source is recorded as given; the server never reads it."""
    call(dashboard_server, "POST", "registered-models/create", json={"name": "on-s3"})
    made = call(dashboard_server, "POST", "model-versions/create",
                json={"name": "on-s3", "source": "s3://bucket/model"})
    assert made.status_code == 200, made.text
    uri = call(dashboard_server, "GET", "model-versions/get-download-uri",
               params={"name": "on-s3", "version": "1"}).json()["artifact_uri"]
    assert uri == "s3://bucket/model"


def test_sdk_refuses_a_server_side_folder_from_another_machine():
    """A run kept outside the server's root is not written to this machine's disk instead."""
    from types import SimpleNamespace

    import kernelflow
    from kernelflow.store.rest import RestStore

    info = SimpleNamespace(run_id="r" * 32, artifact_uri="/srv/elsewhere/1/r/artifacts")
    with pytest.raises(kernelflow.errors.InvalidStateError, match="outside its artifact root"):
        RestStore("http://10.1.2.3:5000").artifact_repository(info)
    local = RestStore("http://127.0.0.1:5000").artifact_repository(info)
    assert type(local).__name__ == "LocalArtifactRepository"
