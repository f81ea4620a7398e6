"""run_notebook and `kernelflow run`: a parameterised notebook as one run, in a real kernel."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import kernelflow as kf
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError
from kernelflow.notebooks import run_notebook

pytestmark = pytest.mark.notebook
KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def write_notebook(path, *sources, params=None):
    cells = []
    if params is not None:
        cells.append(new_code_cell(params, metadata={"tags": ["parameters"]}))
    cells += [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells, metadata=KERNELSPEC), path)
    return str(path)


@pytest.fixture
def param_nb(tmp_path):
    return write_notebook(
        tmp_path / "train.ipynb",
        "import kernelflow as kf\n%load_ext kernelflow\n"
        "kf.log_metric('doubled', alpha * 2)\n"
        "open('name.txt', 'w').write(name)",
        "%%kf run --name inner --no-live\nkf.log_metric('inner_metric', 1.0)",
        params="alpha = 0.5\nname = 'default'",
    )


def test_parameterised_notebook_is_one_run(kernel_env, param_nb, tmp_path):
    out = tmp_path / "out.ipynb"
    run = run_notebook(param_nb, {"alpha": 2, "name": "given"}, experiment_name="nbruns",
                       output_path=str(out))
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "train"
    assert run.data.params == {"alpha": "2", "name": "given"}
    assert run.data.metrics == {"doubled": 4.0}  # logged inside the notebook, on this run
    assert run.info.experiment_id == kf.get_experiment_by_name("nbruns").experiment_id
    assert run.data.tags["mlflow.source.name"] == param_nb
    assert (tmp_path / "name.txt").read_text() == "given"  # ran in the notebook's folder
    child = next(r for r in kf.search_runs(experiment_names=["nbruns"], output_format="list")
                 if r.info.run_name == "inner")
    assert child.data.tags["mlflow.parentRunId"] == run.info.run_id
    executed = nbformat.read(out, as_version=4)
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert ["injected-parameters"] in tags and ["kernelflow-injected"] in tags
    logged = kf.Client().download_artifacts(run.info.run_id, "notebook/train.ipynb")
    assert "alpha = 2" in open(logged).read()
    assert "environment/requirements.txt" in {
        f.path for f in kf.Client().list_artifacts(run.info.run_id, "environment")}


def test_defaults_without_parameters(kernel_env, param_nb):
    run = run_notebook(param_nb)
    assert run.info.status == "FINISHED" and run.data.metrics["doubled"] == 1.0
    assert run.data.params == {}


def test_failing_notebook_ends_failed_with_error_tag(kernel_env, tmp_path):
    path = write_notebook(tmp_path / "bad.ipynb",
                          "import kernelflow as kf\nkf.log_metric('before', 1.0)",
                          "raise ValueError('bad data')", "kf.log_metric('after', 1.0)")
    run = run_notebook(path)
    assert run.info.status == "FAILED"
    assert run.data.tags["kernelflow.error"] == "ValueError: bad data (cell 2)"
    assert run.data.metrics == {"before": 1.0}
    assert kf.Client().list_artifacts(run.info.run_id, "notebook")


def test_timeout_ends_failed(kernel_env, tmp_path):
    path = write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    run = run_notebook(path, timeout=2)
    assert run.info.status == "FAILED"
    assert "TimeoutError" in run.data.tags["kernelflow.error"]


def test_missing_and_invalid_notebooks(tracking_uri, tmp_path):
    with pytest.raises(ResourceNotFoundError, match="No notebook"):
        run_notebook(str(tmp_path / "nope.ipynb"))
    (tmp_path / "x.ipynb").write_text("not json")
    with pytest.raises(InvalidParameterError, match="not a readable"):
        run_notebook(str(tmp_path / "x.ipynb"))
    assert kf.search_runs(output_format="list") == []


def test_cli_kernelflow_run(kernel_env, param_nb, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kernelflow", "run", param_nb, "-P", "alpha=3", "-P", "name=cli",
         "--experiment", "from-cli"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    runs = kf.search_runs(experiment_names=["from-cli"], output_format="list")
    top = next(r for r in runs if r.info.run_name == "train")
    assert top.data.params == {"alpha": "3", "name": "cli"}
    assert top.data.metrics == {"doubled": 6.0}  # 3 was parsed as a number
    assert top.info.run_id in proc.stdout


def test_run_inside_an_active_run_is_its_child(kernel_env, param_nb):
    with kf.start_run(run_name="sweep") as parent:
        child = run_notebook(param_nb, {"alpha": 1})
        assert kf.active_run().info.run_id == parent.info.run_id  # caller's run untouched
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.info.experiment_id == parent.info.experiment_id
