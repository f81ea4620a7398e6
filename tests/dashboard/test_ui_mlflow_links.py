"""MLflow's own links (``http://host/#/experiments/6/runs/<id>``) land on kernelflow's pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(dashboard_server):
    """An experiment with one run, and a registered model ``my model`` with one version."""
    import kernelflow

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("linked exp")
    run = client.create_run(exp, run_name="linked-run")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("my model")
    client.create_model_version("my model", f"{run.info.artifact_uri}/model",
                                run_id=run.info.run_id)
    return {"url": dashboard_server.url, "exp": exp, "run": run.info.run_id}


def _follow(page, url: str, path: str) -> dict:
    """Open ``url`` and wait to be sent to ``path``; return the new query arguments."""
    page.goto(url, wait_until="commit")
    page.wait_for_url(lambda u: urlparse(u).path == path)
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_mlflow_run_link_opens_the_run_page(seeded, page):
    query = _follow(page, f"{seeded['url']}/#/experiments/{seeded['exp']}/runs/{seeded['run']}",
                    "/run")
    assert query == {"id": seeded["run"]}
    page.get_by_text("linked-run").first.wait_for(state="visible")
    shot(page, "mlflow-link-run")


def test_mlflow_experiment_link_opens_its_runs(seeded, page):
    query = _follow(page, f"{seeded['url']}/#/experiments/{seeded['exp']}", "/runs")
    assert query == {"experiment_id": seeded["exp"]}
    page.locator("h1.kf-title", has_text="linked exp").wait_for(state="visible")


@pytest.mark.parametrize("fragment, query", [
    ("#/models/my%20model", {"name": "my model"}),
    ("#/models/my%20model/versions/1", {"name": "my model", "version": "1"}),
])
def test_mlflow_model_links_open_the_model_page(seeded, page, fragment, query):
    assert _follow(page, f"{seeded['url']}/{fragment}", "/model") == query
    page.locator("h1.kf-title", has_text="my model").wait_for(state="visible")


def test_other_fragments_stay_on_the_page(seeded, page):
    page.goto(f"{seeded['url']}/runs#/not-an-mlflow-route", wait_until="commit")
    page.locator("h1.kf-title").first.wait_for(state="visible")
    page.wait_for_timeout(500)
    assert urlparse(page.url).path == "/runs"
