"""The official mlflow client's model registry calls against the kernelflow server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.mlflow
pytest.importorskip("mlflow")


@pytest.fixture
def logged_run(mlflow_env, tmp_path):
    mlflow = mlflow_env
    mlflow.set_experiment("registry-source")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "model"), "model")
    return run


def test_register_alias_and_read_back(mlflow_env, dashboard_server, logged_run):
    import kernelflow

    client = mlflow_env.MlflowClient()
    run_id = logged_run.info.run_id
    client.create_registered_model("iris", tags={"team": "ml"}, description="flowers")
    v1 = client.create_model_version("iris", f"runs:/{run_id}/model", run_id=run_id)
    v2 = client.create_model_version("iris", f"{logged_run.info.artifact_uri}/model", run_id=run_id)
    assert (v1.version, v2.version) == ("1", "2")
    client.set_registered_model_alias("iris", "champion", v2.version)
    assert client.get_model_version_by_alias("iris", "champion").version == "2"
    model = client.get_registered_model("iris")
    assert model.aliases == {"champion": "2"} and model.tags == {"team": "ml"}
    assert model.description == "flowers"
    assert client.get_model_version("iris", "2").source.startswith("mlflow-artifacts:/")

    kf = kernelflow.Client(dashboard_server.db_uri)
    assert kf.get_model_version_by_alias("iris", "champion").run_id == run_id
    assert [v.version for v in kf.search_model_versions("name = 'iris'")] in (["1", "2"], ["2", "1"])


def test_stages_tags_search_and_delete(mlflow_env, logged_run):
    client = mlflow_env.MlflowClient()
    run_id = logged_run.info.run_id
    client.create_registered_model("wine")
    client.create_model_version("wine", f"runs:/{run_id}/model", run_id=run_id)
    mv = client.transition_model_version_stage("wine", "1", "Production")
    assert mv.current_stage == "Production"
    assert [v.version for v in client.get_latest_versions("wine", ["Production"])] == ["1"]
    client.set_model_version_tag("wine", "1", "validated", "yes")
    client.set_registered_model_tag("wine", "owner", "me")
    assert client.get_model_version("wine", "1").tags == {"validated": "yes"}
    client.delete_model_version_tag("wine", "1", "validated")
    client.delete_registered_model_tag("wine", "owner")
    assert client.get_model_version("wine", "1").tags == {}
    client.update_registered_model("wine", description="red")
    client.update_model_version("wine", "1", description="first")
    assert client.get_model_version("wine", "1").description == "first"
    client.rename_registered_model("wine", "vino")
    assert "vino" in [m.name for m in client.search_registered_models("name LIKE 'vi%'")]
    assert client.get_model_version_download_uri("vino", "1").startswith("mlflow-artifacts:/")
    client.set_registered_model_alias("vino", "prod", "1")
    client.delete_registered_model_alias("vino", "prod")
    assert client.get_registered_model("vino").aliases == {}
    client.delete_model_version("vino", "1")
    client.delete_registered_model("vino")
    with pytest.raises(mlflow_env.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model("vino")
