"""The scikit-learn flavor and the model directory format, on iris."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

pytest.importorskip("sklearn")

import kernelflow  # noqa: E402
from kernelflow.errors import InvalidParameterError, ResourceExistsError, ResourceNotFoundError  # noqa: E402


def test_save_load_round_trip_predicts_identically(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(3))
    loaded = kernelflow.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(X), iris_model.predict(X))
    assert loaded.flavor == "sklearn"
    assert type(loaded.unwrap()) is type(iris_model)


def test_loaded_model_shows_itself_in_a_notebook(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(2))
    page = kernelflow.load_model(str(tmp_path / "m"))._repr_html_()
    assert "sklearn" in page and "LogisticRegression" in page and "sepal length (cm)" in page


def test_metadata_file_records_everything(tmp_path, iris, iris_model):
    X, _ = iris
    info = kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(3),
                                 metadata={"owner": "ana"})
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert doc["flavors"]["python_function"]["loader_module"] == "kernelflow.sklearn"
    assert doc["flavors"]["python_function"]["python_version"].count(".") == 2
    assert doc["flavors"]["sklearn"]["sklearn_version"]
    assert doc["model_id"] == info.model_id and doc["utc_time_created"]
    assert doc["metadata"] == {"owner": "ana"}
    names = [c["name"] for c in json.loads(doc["signature"]["inputs"])]
    assert names == list(X.columns)
    reqs = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("scikit-learn==") for r in reqs)
    assert (tmp_path / "m" / "input_example.json").exists()


def test_input_example_round_trips(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(4))
    example = kernelflow.load_model(str(tmp_path / "m")).input_example
    assert list(example.columns) == list(X.columns)
    np.testing.assert_allclose(example.to_numpy(), X.head(4).to_numpy())


def test_predict_accepts_array_list_and_dict(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(2))
    model = kernelflow.load_model(str(tmp_path / "m"))
    want = iris_model.predict(X.head(2))
    for data in (X.head(2).to_numpy(), X.head(2).to_numpy().tolist(),
                 X.head(2).to_dict(orient="list"), X.head(2).to_dict(orient="records")):
        np.testing.assert_array_equal(model.predict(data), want)


def test_predict_checks_the_signature(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(2))
    model = kernelflow.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterError, match="missing column 'petal width \\(cm\\)'"):
        model.predict(X.drop(columns=["petal width (cm)"]))


def test_predict_fn_option_uses_predict_proba(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.sklearn.save_model(iris_model, str(tmp_path / "m"), pyfunc_predict_fn="predict_proba")
    proba = kernelflow.load_model(str(tmp_path / "m")).predict(X.head(3))
    np.testing.assert_allclose(proba, iris_model.predict_proba(X.head(3)))


def test_model_fitted_on_arrays_takes_dataframes(tmp_path, iris):
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    tree = DecisionTreeClassifier(random_state=0).fit(X.to_numpy(), y)
    kernelflow.save_model(tree, str(tmp_path / "m"))
    out = kernelflow.load_model(str(tmp_path / "m")).predict(X)
    np.testing.assert_array_equal(out, tree.predict(X.to_numpy()))


def test_signature_false_saves_none(tmp_path, iris, iris_model):
    X, _ = iris
    kernelflow.save_model(iris_model, str(tmp_path / "m"), input_example=X.head(2), signature=False)
    assert kernelflow.load_model(str(tmp_path / "m")).signature is None


def test_saving_over_a_model_is_refused(tmp_path, iris_model):
    kernelflow.save_model(iris_model, str(tmp_path / "m"))
    with pytest.raises(ResourceExistsError, match="not empty"):
        kernelflow.save_model(iris_model, str(tmp_path / "m"))


def test_unknown_object_says_what_is_supported(tmp_path):
    with pytest.raises(InvalidParameterError, match="does not know how to save .* PythonModel"):
        kernelflow.save_model(object(), str(tmp_path / "m"))
    assert not (tmp_path / "m").exists()


def test_loading_a_folder_without_model_says_so(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="no MLmodel file"):
        kernelflow.load_model(str(tmp_path))


def test_log_model_into_active_run(tracking_uri, iris, iris_model):
    X, _ = iris
    with kernelflow.start_run() as run:
        info = kernelflow.log_model(iris_model, "clf", input_example=X.head(2))
    assert info.model_uri == f"runs:/{run.info.run_id}/clf"
    assert info.run_id == run.info.run_id and info.name == "clf"
    np.testing.assert_array_equal(kernelflow.load_model(info.model_uri).predict(X), iris_model.predict(X))
    tags = kernelflow.get_run(run.info.run_id).data.tags
    history = json.loads(tags["mlflow.log-model.history"])
    assert history[0]["artifact_path"] == "clf" and "sklearn" in history[0]["flavors"]


def test_log_model_without_active_run_starts_and_ends_one(tracking_uri, iris_model):
    info = kernelflow.sklearn.log_model(iris_model)
    assert kernelflow.active_run() is None
    run = kernelflow.get_run(info.run_id)
    assert run.info.status == "FINISHED"
    assert type(kernelflow.sklearn.load_model(info.model_uri)) is type(iris_model)


def test_log_model_registers(tracking_uri, iris_model):
    info = kernelflow.log_model(iris_model, "m", registered_model_name="iris")
    again = kernelflow.log_model(iris_model, "m", registered_model_name="iris")
    assert (info.registered_model_version, again.registered_model_version) == (1, 2)


def test_flavor_load_refuses_other_flavors(tmp_path):
    kernelflow.save_model(lambda df: df, str(tmp_path / "fn"))
    with pytest.raises(InvalidParameterError, match="no 'sklearn' flavor"):
        kernelflow.sklearn.load_model(str(tmp_path / "fn"))


def test_bad_model_name_is_refused(tracking_uri, iris_model):
    with pytest.raises(InvalidParameterError, match="Invalid model name"):
        kernelflow.log_model(iris_model, "../escape")
