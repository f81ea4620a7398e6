"""The experiments and registry pages in a real headless Chromium: create/rename/delete, aliases, stages."""

from __future__ import annotations

import pytest
from browser_helpers import open_page, shot, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(dashboard_server):
    """A model ``iris`` with two versions from two runs; ``@champion`` on version 1."""
    import kernelflow

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("ui-models")
    client.create_registered_model("iris")
    for i in range(2):
        run = client.create_run(exp, run_name=f"iris-train-{i}")
        client.set_terminated(run.info.run_id)
        client.create_model_version("iris", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("iris", "champion", 1)
    return {"url": dashboard_server.url, "client": client}


def versions_text(page) -> str:
    return page.locator(".kf-versions").inner_text()


def test_models_page_links_to_model(seeded, page):
    open_page(page, f"{seeded['url']}/models", ".kf-models .tabulator-row")
    assert "@champion→v1" in page.locator(".kf-models .tabulator-row").first.inner_text()
    page.locator(".kf-models a", has_text="iris").click()
    page.locator(".kf-versions").wait_for()
    assert page.locator(".kf-model-name").inner_text() == "iris"
    assert "iris-train-0" in versions_text(page) and "iris-train-1" in versions_text(page)


def test_move_alias_and_stage_from_the_model_page(seeded, page):
    open_page(page, f"{seeded['url']}/model?name=iris", ".kf-versions")
    page.locator(".kf-alias-name input").fill("champion")
    assert page.locator("select").first.input_value() == "2"  # newest version preselected
    page.locator(".kf-set-alias button").click()
    wait_until(page, lambda: "now points at version 2" in page.locator(".kf-done").inner_text()
               if page.locator(".kf-done").count() else False, "the alias confirmation")
    client = seeded["client"]
    assert client.get_registered_model("iris").aliases == {"champion": "2"}
    rows = page.locator(".kf-versions tr").all_inner_texts()
    assert "@champion" in rows[1] and "v2" in rows[1] and "@champion" not in rows[2]
    history = page.locator(".kf-history").inner_text()
    assert history.count("@champion") == 2 and "current" in history
    page.locator("select").nth(1).select_option("Production")
    page.locator(".kf-move-stage button").click()
    wait_until(page, lambda: "Production" in versions_text(page), "the stage change")
    assert client.get_model_version("iris", 2).current_stage == "Production"
    shot(page, "model-alias-moved")


def test_unknown_model_explains(seeded, page):
    open_page(page, f"{seeded['url']}/model?name=nope", ".kf-error")
    assert "nope" in page.locator(".kf-error").inner_text()


def test_experiments_create_rename_delete(seeded, page):
    open_page(page, seeded["url"] + "/", ".kf-experiments .tabulator-row")
    page.locator(".kf-new-name input").fill("fresh-exp")
    page.locator(".kf-create button").click()
    rows = page.locator(".kf-experiments .tabulator-row")
    wait_until(page, lambda: "fresh-exp" in rows.first.inner_text(), "the new experiment")
    client = seeded["client"]
    assert client.get_experiment_by_name("fresh-exp") is not None
    rows.first.locator(".tabulator-cell[tabulator-field='Runs']").click()  # select it (click a non-link cell)
    page.locator(".kf-rename-to input").fill("renamed-exp")
    page.locator(".kf-rename button").click()
    wait_until(page, lambda: "renamed-exp" in rows.first.inner_text(), "the rename")
    rows.first.locator(".tabulator-cell[tabulator-field='Runs']").click()
    page.locator(".kf-delete-exp button").click()
    wait_until(page, lambda: "renamed-exp" not in " ".join(rows.all_inner_texts()), "the delete")
    assert client.get_experiment_by_name("renamed-exp").lifecycle_stage == "deleted"
    page.locator(".kf-new-name input").fill("ui-models")
    page.locator(".kf-create button").click()
    page.locator(".kf-error").wait_for()
    assert "already exists" in page.locator(".kf-error").inner_text()
    shot(page, "experiments")
