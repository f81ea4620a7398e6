"""MLflow Projects: ``kernelflow run DIR -P k=v`` runs an MLproject entry point as one run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError
from kernelflow.projects import run_project

MLPROJECT = textwrap.dedent("""\
    name: demo
    python_env: python_env.yaml
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          epochs: {type: int, default: 2}
          data: path
          label: {type: string, default: "a b"}
        command: "python train.py --alpha {alpha} --epochs {epochs} --data {data} --label {label}"
      fail:
        command: "python -c 'import sys; sys.exit(3)'"
""")
TRAIN = textwrap.dedent("""\
    import argparse, sys
    import kernelflow as kf
    p = argparse.ArgumentParser()
    for name in ("--alpha", "--epochs", "--data", "--label", "--extra"):
        p.add_argument(name)
    args = p.parse_args()
    with kf.start_run():  # joins the project's run (KERNELFLOW_RUN_ID)
        kf.log_metric("alpha_seen", float(args.alpha))
        kf.set_tag("label_seen", args.label)
        kf.set_tag("extra_seen", str(args.extra))
""")


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "MLproject").write_text(MLPROJECT)
    (folder / "python_env.yaml").write_text("python: '3.11'\n")
    (folder / "train.py").write_text(TRAIN)
    (folder / "data.csv").write_text("x\n1\n")
    (folder / "hello.py").write_text("print('hello')\n")
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q",
                    "--allow-empty", "-m", "init"], cwd=folder, check=True)
    return folder


def _commit(folder) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                          text=True).stdout.strip()


def test_run_project_logs_params_commit_and_status(tracking_uri, project):
    run = run_project(str(project), {"alpha": "0.1", "data": str(project / "data.csv"),
                                     "extra": "x"}, experiment_name="projects")
    assert run.info.status == "FINISHED"
    assert run.data.params == {"alpha": "0.1", "epochs": "2", "label": "a b",
                               "data": str(project / "data.csv"), "extra": "x"}
    assert run.data.tags["mlflow.source.git.commit"] == _commit(project)
    assert run.data.tags["mlflow.source.type"] == "PROJECT"
    assert run.data.tags["mlflow.project.entryPoint"] == "main"
    # The command logged into the same run, with the values as given (quoted in the shell).
    assert run.data.metrics["alpha_seen"] == 0.1
    assert run.data.tags["label_seen"] == "a b" and run.data.tags["extra_seen"] == "x"
    exp = kernelflow.Client(tracking_uri).get_experiment_by_name("projects")
    assert run.info.experiment_id == exp.experiment_id


def test_exit_code_sets_the_status(tracking_uri, project):
    run = run_project(str(project), entry_point="fail")
    assert run.info.status == "FAILED" and run.data.tags["kernelflow.exitCode"] == "3"


def test_a_script_is_an_entry_point(tracking_uri, project):
    assert run_project(str(project), entry_point="hello.py").info.status == "FINISHED"


@pytest.mark.parametrize("params, kw, says", [
    ({}, {}, "No value given for missing parameters: 'data'"),
    ({"data": "DATA", "alpha": "fast"}, {}, "Invalid value 'fast' for parameter 'alpha': "
                                            "expected float"),
    ({"data": "DATA", "epochs": "2.5"}, {}, "expected int"),
    ({"data": "/no/such/file"}, {}, "no such file or directory"),
    ({"data": "DATA"}, {"env_manager": "conda"}, "use --env-manager local"),
    ({"data": "DATA"}, {"entry_point": "nope"}, "Could not find entry point 'nope'"),
])
def test_clear_errors_before_any_run(tracking_uri, project, params, kw, says):
    params = {k: v.replace("DATA", str(project / "data.csv")) for k, v in params.items()}
    with pytest.raises(InvalidParameterError, match=says):
        run_project(str(project), params, **kw)
    assert len(kernelflow.Client(tracking_uri).search_runs(["0"])) == 0


def test_docker_env_is_refused_saying_what_is_supported(tracking_uri, tmp_path):
    (tmp_path / "MLproject").write_text(
        "name: d\ndocker_env:\n  image: x\nentry_points:\n  main:\n    command: 'true'\n")
    with pytest.raises(InvalidParameterError, match="current environment"):
        run_project(str(tmp_path))


def test_cli_runs_a_project_and_still_runs_notebooks(tracking_uri, project):
    env = {**os.environ, "KERNELFLOW_TRACKING_URI": tracking_uri}
    ok = subprocess.run([sys.executable, "-m", "kernelflow", "run", str(project), "-P",
                         f"data={project / 'data.csv'}", "-P", "alpha=0.25",
                         "--experiment", "cli-projects"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "FINISHED" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "kernelflow", "run", str(project)],
                         capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "missing parameters: 'data'" in bad.stderr
    nb = subprocess.run([sys.executable, "-m", "kernelflow", "run", str(project / "x.ipynb")],
                        capture_output=True, text=True, env=env)
    assert nb.returncode != 0 and "x.ipynb" in nb.stderr  # the notebook path still applies
