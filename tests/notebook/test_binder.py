"""Every binder/ demo notebook, executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import shutil

import nbformat
import pytest

import kernelflow as kf

pytestmark = pytest.mark.notebook


def test_there_are_numbered_demos_and_binder_files(binder_dir):
    demos = sorted(p.name for p in binder_dir.glob("[0-9][0-9]-*.ipynb"))
    assert demos[:4] == ["01-track-a-model.ipynb", "02-compare-runs.ipynb",
                         "03-register-and-load.ipynb", "04-notebook-as-a-run.ipynb"]
    assert "06-serve-a-model.ipynb" in demos  # executed by tests/serving/test_serving_binder.py
    assert (binder_dir / "requirements.txt").exists()
    assert "pip install" in (binder_dir / "postBuild").read_text()


@pytest.fixture
def run_demo(binder_dir, execute_notebook, tmp_path):
    def run(name):
        for nb_file in binder_dir.glob("*.ipynb"):
            shutil.copy(nb_file, tmp_path)
        nb = nbformat.read(tmp_path / name, as_version=4)
        execute_notebook(nb, tmp_path)
        return nb

    return run


def runs_in(experiment):
    return {r.info.run_name: r for r in kf.search_runs(experiment_names=[experiment],
                                                        output_format="list")}


def widget_values(nb):
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [m["state"].get("value", "") for m in state.values() if m["model_name"] == "HTMLModel"]


def test_01_track_a_model(run_demo):
    nb = run_demo("01-track-a-model.ipynb")
    runs = runs_in("binder-demo")
    gbt = runs["gbt-100"]
    assert gbt.info.status == "FINISHED"
    assert gbt.data.params == {"n_estimators": "100", "learning_rate": "0.1"}
    assert gbt.data.tags["model"] == "gbt"
    assert len(kf.get_metric_history(gbt.info.run_id, "val_loss")) == 100
    assert gbt.data.metrics["val_acc"] > 0.8
    assert runs["broken"].data.tags["note"] == "invalid n_estimators"
    cell = kf.Client().download_artifacts(gbt.info.run_id, "code/cell.py")
    assert "GradientBoostingClassifier" in open(cell).read()
    live = [v for v in widget_values(nb) if "kf-live" in v and "gbt-100" in v]
    assert live and 'data-points="100"' in live[-1] and "FINISHED" in live[-1]


def test_02_compare_runs(run_demo):
    nb = run_demo("02-compare-runs.ipynb")
    runs = runs_in("binder-sweep")
    assert set(runs) == {"lr-0.03", "lr-0.1", "lr-0.3"}
    for run in runs.values():
        assert run.info.status == "FINISHED"
        assert len(kf.get_metric_history(run.info.run_id, "val_loss")) == 60
    compare_html = next(o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
                        for o in c.outputs if "kf-compare" in o.get("data", {}).get("text/html", ""))
    assert compare_html.count('class="kf-series"') == 3


def test_03_register_and_load(run_demo):
    nb = run_demo("03-register-and-load.ipynb")
    client = kf.Client()
    model = client.get_registered_model("iris-classifier")
    assert model.aliases == {"champion": "2", "challenger": "2"}
    versions = client.search_model_versions("name = 'iris-classifier'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    v1 = next(v for v in versions if v.version == "1")
    assert kf.get_run(v1.run_id).info.run_name == "logreg"
    predict = [o for c in nb.cells if "champion.predict" in c.source for o in c.outputs]
    assert "array([0, 0, 0, 0, 0])" in predict[0]["data"]["text/plain"]


def test_04_notebook_as_a_run(run_demo):
    run_demo("04-notebook-as-a-run.ipynb")
    runs = kf.search_runs(experiment_names=["binder-notebook-runs"], output_format="list")
    assert sorted(r.data.params["max_depth"] for r in runs) == ["1", "3"]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.params["n_estimators"] == "30"  # logged by the notebook itself
        assert 0.5 < run.data.metrics["val_acc"] <= 1.0
        files = [f.path for f in kf.Client().list_artifacts(run.info.run_id, "notebook")]
        assert files == ["notebook/train-parameterised.ipynb"]
