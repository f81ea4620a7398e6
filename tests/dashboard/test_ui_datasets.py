"""The run page's "Datasets used" section in a real headless Chromium."""

from __future__ import annotations

import pytest
from browser_helpers import open_page, shot, wait_until

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"


def test_run_page_lists_dataset_inputs_as_text(dashboard_server, page):
    import kernelflow

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("ui-datasets")
    rid = client.create_run(exp, run_name="with-data").info.run_id
    bare = client.create_run(exp, run_name="no-data").info.run_id
    client.log_inputs(rid, [
        kernelflow.DatasetInput(
            kernelflow.Dataset("iris-train", "abc123", "local", '{"uri": "/data/iris.csv"}',
                               schema='{"mlflow_colspec": [{"name": "petal"}]}',
                               profile='{"num_rows": 150}'),
            {"mlflow.data.context": "training"}),
        kernelflow.DatasetInput(kernelflow.Dataset(HOSTILE, "d1", "http", "<b>src</b>"),
                                {"mlflow.data.context": "eval<script>"}),
    ])
    client.set_terminated(rid)
    client.log_param(bare, "lr", "0.1")  # its params table shows once the overview rendered
    client.set_terminated(bare)
    client.flush()

    open_page(page, f"{dashboard_server.url}/run?id={rid}", ".kf-datasets")
    names = page.locator(".kf-dataset-name").all_inner_texts()
    assert names == ["iris-train", HOSTILE]  # the hostile name is text, not an <img>
    assert page.locator(".kf-datasets img").count() == 0
    assert page.locator(".kf-dataset-context").all_inner_texts() == ["training", "eval<script>"]
    table = page.locator(".kf-datasets").inner_text()
    assert "abc123" in table and "local" in table and "<b>src</b>" in table
    schema = page.locator(".kf-dataset-schema")
    assert schema.get_attribute("open") is None  # collapsed until clicked
    schema.locator("summary").click()
    wait_until(page, lambda: "petal" in schema.inner_text(), "the schema to open")
    shot(page, "run-datasets")

    open_page(page, f"{dashboard_server.url}/run?id={bare}", ".kf-params")
    assert page.locator(".kf-datasets").count() == 0
    assert "Datasets used" not in page.locator("body").inner_text()
