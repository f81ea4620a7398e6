"""MLflow 3's logged models through the kernelflow server, with the official mlflow client.

The round trip: mlflow logs and registers an sklearn model, then kernelflow's SDK
(on the server's SQLite file) and mlflow (over REST) both load the version and predict.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import requests

pytestmark = pytest.mark.mlflow
mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

X = np.arange(20.0).reshape(-1, 2)
Y = X @ np.array([1.0, 2.0]) + 3.0


class Doubler(mlflow.pyfunc.PythonModel):
    """A pyfunc model with no framework behind it."""

    def predict(self, context, model_input, params=None):
        return np.asarray(model_input) * 2


@pytest.fixture(scope="module")
def env(dashboard_server):
    """Point mlflow at the server for the whole module (mlflow_env is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
                     "MLFLOW_TRACKING_PASSWORD"):
            mp.delenv(name, raising=False)
        mp.setenv("MLFLOW_TRACKING_URI", dashboard_server.url)
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mp.setenv("KERNELFLOW_TRACKING_URI", dashboard_server.db_uri)
        mlflow.set_tracking_uri(dashboard_server.url)
        yield dashboard_server
        while mlflow.active_run() is not None:
            mlflow.end_run()


@pytest.fixture(scope="module")
def logged(env):
    """An sklearn model logged and registered as 'lin' version 1 by mlflow 3's client."""
    from sklearn.linear_model import LinearRegression

    mlflow.set_experiment("logged-models")
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 0.25)
        info = mlflow.sklearn.log_model(
            LinearRegression().fit(X, Y), name="model", registered_model_name="lin",
            pip_requirements=["scikit-learn"],
        )
    return run, info


def _api(server, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}/api/2.0/mlflow/{path}", timeout=10, **kwargs)


def test_log_model_creates_a_ready_logged_model(env, logged):
    run, info = logged
    model = mlflow.MlflowClient().get_logged_model(info.model_id)
    assert info.model_uri == f"models:/{info.model_id}" and info.registered_model_version == "1"
    assert (model.name, model.status.to_int(), model.source_run_id) == ("model", 2, run.info.run_id)
    exp_id = run.info.experiment_id
    assert model.artifact_location == f"mlflow-artifacts:/{exp_id}/models/{info.model_id}/artifacts"
    folder = env.artifact_root / exp_id / "models" / info.model_id / "artifacts"
    assert (folder / "MLmodel").is_file()
    assert [(m.key, m.value) for m in model.metrics] == [("rmse", 0.25)]
    assert [o.model_id for o in mlflow.get_run(run.info.run_id).outputs.model_outputs] == [
        info.model_id]
    # log_model re-sends the run's metrics linked to the model: the run keeps one point.
    assert len(mlflow.MlflowClient().get_metric_history(run.info.run_id, "rmse")) == 1
    found = mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list",
                                        filter_string="metrics.rmse < 0.5 AND name = 'model'")
    assert [m.model_id for m in found] == [info.model_id]
    assert mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list",
                                       filter_string="metrics.rmse > 0.5") == []


def test_registered_version_loads_in_kernelflow_and_mlflow(env, logged):
    import kernelflow

    run, info = logged
    version = kernelflow.Client(env.db_uri).get_model_version("lin", "1")
    assert version.run_id == run.info.run_id
    assert os.path.isfile(os.path.join(version.source, "MLmodel"))
    expected = X[:3] @ np.array([1.0, 2.0]) + 3.0
    np.testing.assert_allclose(kernelflow.load_model("models:/lin/1").predict(X[:3]), expected)
    np.testing.assert_allclose(mlflow.pyfunc.load_model("models:/lin/1").predict(X[:3]), expected)
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(f"models:/{info.model_id}").predict(X[:3]), expected)
    np.testing.assert_allclose(
        kernelflow.load_model(f"models:/{info.model_id}").predict(X[:3]), expected)
    assert kernelflow.Client(env.db_uri).get_logged_model(info.model_id).model_id == info.model_id
    body = _api(env, "model-versions/get", params={"name": "lin", "version": "1"}).json()
    assert body["model_version"]["model_id"] == info.model_id
    got = _api(env, f"logged-models/{info.model_id}").json()["model"]["info"]
    assert got["registrations"] == [{"name": "lin", "version": "1"}]


def test_register_by_model_id_and_by_runs_uri(env, logged):
    import kernelflow

    run, info = logged
    by_id = mlflow.register_model(f"models:/{info.model_id}", "lin-by-id")
    by_run = mlflow.register_model(f"runs:/{run.info.run_id}/model", "lin-by-run")
    assert (by_id.version, by_run.version) == ("1", "1")
    kf = kernelflow.Client(env.db_uri)
    sources = {kf.get_model_version(n, "1").source for n in ("lin", "lin-by-id", "lin-by-run")}
    assert len(sources) == 1 and kf.get_model_version("lin-by-id", "1").run_id == run.info.run_id
    regs = mlflow.MlflowClient().get_logged_model(info.model_id).tags["mlflow.modelVersions"]
    assert "lin-by-id" in regs and "lin-by-run" in regs


def test_pyfunc_log_model_and_load_by_model_id(env):
    mlflow.set_experiment("logged-models")
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="doubler", python_model=Doubler(),
                                       pip_requirements=["numpy"])
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(np.array([[1.0, 2.0]])), [[2.0, 4.0]])
    assert mlflow.MlflowClient().get_logged_model(info.model_id).name == "doubler"


def test_search_filters_orders_and_pages(env):
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("search-models")
    many = {f"p{i}": str(i) for i in range(150)}  # more than one request's 100 params
    a = client.create_logged_model(exp_id, name="alpha", tags={"team": "ml"}, params=many)
    client.create_logged_model(exp_id, name="beta", model_type="agent")
    client.finalize_logged_model(a.model_id, mlflow.entities.LoggedModelStatus.READY)
    assert client.get_logged_model(a.model_id).params == many

    def names(**kw):
        return [m.name for m in client.search_logged_models([exp_id], **kw)]

    assert names() == ["beta", "alpha"]  # newest first
    assert names(filter_string="name = 'alpha'") == ["alpha"]
    assert names(filter_string="tags.team = 'ml' AND params.p7 = '7'") == ["alpha"]
    assert names(filter_string="status = 'READY'") == ["alpha"]
    assert names(filter_string="model_type = 'agent'") == ["beta"]
    assert names(order_by=[{"field_name": "name", "ascending": True}]) == ["alpha", "beta"]
    first = client.search_logged_models([exp_id], max_results=1)
    second = client.search_logged_models([exp_id], max_results=1, page_token=first.token)
    assert [m.name for m in first + second] == ["beta", "alpha"] and second.token is None


def test_tags_delete_and_errors(env):
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("model-lifecycle")
    model = client.create_logged_model(exp_id, name="gone")
    client.set_logged_model_tags(model.model_id, {"stage": "dev", "keep": "yes"})
    client.delete_logged_model_tag(model.model_id, "stage")
    assert client.get_logged_model(model.model_id).tags == {"keep": "yes"}
    client.delete_logged_model(model.model_id)
    with pytest.raises(mlflow.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.get_logged_model(model.model_id)
    assert client.search_logged_models([exp_id]) == []
    deleted = _api(env, f"logged-models/{model.model_id}", params={"allow_deleted": "true"})
    assert deleted.status_code == 200 and deleted.json()["model"]["info"]["name"] == "gone"

    missing = _api(env, "logged-models/m-nope")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    bad_filter = _api(env, "logged-models/search", "POST",
                      json={"experiment_ids": [exp_id], "filter": "colour = 'red'"})
    assert bad_filter.status_code == 400 and "unknown attribute 'colour'" in bad_filter.json()["message"]
    other = client.create_logged_model(exp_id, name="other")
    bad_status = _api(env, f"logged-models/{other.model_id}", "PATCH",
                      json={"model_id": other.model_id, "status": "DONE"})
    assert bad_status.status_code == 400 and "LOGGED_MODEL_READY" in bad_status.json()["message"]
    assert _api(env, f"logged-models/{other.model_id}/params", "GET").status_code == 405
    no_exp = _api(env, "logged-models", "POST", json={"experiment_id": "999", "name": "x"})
    assert no_exp.status_code == 404


@pytest.mark.parametrize("bad, says", [
    ("name = 'a' OR name = 'b'", "expected AND"),
    ("metrics.acc > 'high'", "compares with a number"),
    ("tags.team = 3", "compares with a quoted string"),
    ("name", "needs"),
    ("creation_timestamp LIKE '1%'", "is compared with"),
    ("weights.w = 'x'", "unknown key type 'weights'"),
])
def test_bad_filters_say_what_is_wrong(env, bad, says):
    reply = _api(env, "logged-models/search", "POST", json={"experiment_ids": ["0"], "filter": bad})
    assert reply.status_code == 400 and reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in reply.json()["message"]


def test_in_filter_and_tag_keys_with_dots(env):
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("model-in-filter")
    ids = {n: client.create_logged_model(exp_id, name=n).model_id for n in ("x", "y", "z")}
    found = client.search_logged_models([exp_id], filter_string="name IN ('x', 'z')")
    assert sorted(m.name for m in found) == ["x", "z"]
    client.set_logged_model_tags(ids["y"], {"team.owner/dept": "ml", "other": "1"})
    client.delete_logged_model_tag(ids["y"], "team.owner/dept")
    assert client.get_logged_model(ids["y"]).tags == {"other": "1"}
    with pytest.raises(mlflow.exceptions.MlflowException, match="has no tag"):
        client.delete_logged_model_tag(ids["y"], "absent")


def test_metric_logged_with_a_model_id_lands_on_run_and_model(env):
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("model-metrics")
    run = client.create_run(exp_id)
    model = client.create_logged_model(exp_id, name="scored", source_run_id=run.info.run_id)
    client.log_metric(run.info.run_id, "acc", 0.75, step=3, model_id=model.model_id,
                      dataset_name="holdout", dataset_digest="d1")
    [metric] = client.get_logged_model(model.model_id).metrics
    assert (metric.key, metric.value, metric.step, metric.dataset_name) == ("acc", 0.75, 3,
                                                                            "holdout")
    assert [m.value for m in client.get_metric_history(run.info.run_id, "acc")] == [0.75]
