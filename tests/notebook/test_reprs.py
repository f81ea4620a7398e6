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
    # two header rows (the "Metrics" group above its keys), then one row per run
    assert out.count("<tr>") == 5 and "<th>m</th>" in out
    assert "<th class='kf-group' colspan='1'>Metrics</th>" in out
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


# -- escaping: hostile names never become markup -----------------------------------
HOSTILE = "m<img src=x onerror=alert(1)>"
SAFE_TAGS = {"style", "div", "b", "table", "tr", "th", "td", "code", "span", "p", "br"}


def _tags(markup: str) -> set[str]:
    from html.parser import HTMLParser

    found: set[str] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collect().feed(markup)
    return found


def _hostile_run():
    exp = kf.set_experiment(HOSTILE)
    kf.Client().set_experiment_tag(exp.experiment_id, "t", HOSTILE)
    with kf.start_run(run_name=HOSTILE) as run:
        kf.log_param("p", HOSTILE)  # keys are validated; values and names are free text
        kf.log_metric("acc", 0.5)
        kf.set_tag("t", HOSTILE)
    return kf.get_run(run.info.run_id)


def _hostile_model_version():
    client = kf.Client()
    client.create_registered_model(HOSTILE, description=HOSTILE)
    run = _hostile_run()
    client.create_model_version(HOSTILE, f"runs:/{run.info.run_id}/model", run.info.run_id,
                                description=HOSTILE)
    return client.get_model_version(HOSTILE, "1")


def test_every_html_repr_escapes_hostile_names_params_tags_and_aliases(tracking_uri):
    run = _hostile_run()
    mv = _hostile_model_version()
    mv_alias = ModelVersion(HOSTILE, "1", aliases=[HOSTILE], source=HOSTILE, run_id=HOSTILE,
                            status=HOSTILE, current_stage=HOSTILE, description=HOSTILE)
    model = RegisteredModel(HOSTILE, description=HOSTILE, aliases={HOSTILE: HOSTILE},
                            latest_versions=[mv_alias])
    outputs = {
        "run_html": reprs.run_html(run),
        "runs_html": reprs.runs_html([run]),
        "experiment_html": reprs.experiment_html(kf.get_experiment_by_name(HOSTILE)),
        "model_version_html": reprs.model_version_html(mv),
        "model_version_html(alias)": reprs.model_version_html(mv_alias),
        "registered_model_html": reprs.registered_model_html(model),
        "Run._repr_html_": run._repr_html_(),
        "ModelVersion._repr_html_": mv._repr_html_(),
    }
    for name, out in outputs.items():
        assert _tags(out) <= SAFE_TAGS, name
        assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out, name


def test_model_version_html_shows_aliases_in_their_row():
    mv = ModelVersion("iris", "2", aliases=["champion", "b"], run_id="abc", status="READY")
    out = reprs.model_version_html(mv)
    assert "<tr><th>aliases</th><td><code>@b</code> <code>@champion</code></td></tr>" in out
