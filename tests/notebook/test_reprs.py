"""HTML and text reprs of runs, experiments, model versions and search results."""

from __future__ import annotations

import kernelflow as kf
from kernelflow.entities import ModelVersion, RegisteredModel
from kernelflow.widgets import reprs, svg


def test_run_html_shows_colour_params_metrics_and_user_tags(tracking_uri):
    with kf.start_run(run_name="shown<b>") as run:
        kf.log_params({"lr": "0.1"})
        kf.log_metric("acc", 0.987654)
        kf.set_tag("team", "vision")
    got = kf.get_run(run.info.run_id)
    out = reprs.run_html(got)
    assert svg.run_color(run.info.run_id) in out
    assert "shown&lt;b&gt;" in out and "<b>shown<b>" not in out
    assert "lr" in out and "0.9877" in out and "vision" in out
    assert "mlflow.runName" not in out  # system tags stay out of the way
    assert reprs.run_text(got).endswith("FINISHED · acc=0.9877")


def test_runs_html_one_row_per_run(tracking_uri):
    for i in range(3):
        with kf.start_run(run_name=f"r{i}"):
            kf.log_metric("m", i)
    runs = kf.search_runs(output_format="list")
    out = reprs.runs_html(runs)
    assert out.count("<tr>") == 4 and "<th>m</th>" in out
    assert "No runs match" in reprs.runs_html([])


def test_experiment_reprs(tracking_uri):
    exp = kf.set_experiment("shown-exp")
    assert "Experiment shown-exp" in reprs.experiment_html(exp)
    assert reprs.experiment_text(exp) == f"Experiment 'shown-exp' (id {exp.experiment_id}, active)"


def test_model_version_and_registered_model_reprs():
    mv = ModelVersion("iris", "2", aliases=["champion"], run_id="abc", status="READY")
    out = reprs.model_version_html(mv)
    assert "<code>@champion</code>" in out and "models:/iris/2" in out
    assert reprs.model_version_text(mv) == "ModelVersion iris v2 @champion (READY)"
    model = RegisteredModel("iris", aliases={"champion": "2"}, latest_versions=[mv])
    assert "@champion" in reprs.registered_model_html(model)
