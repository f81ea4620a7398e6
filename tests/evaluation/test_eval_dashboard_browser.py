"""The dashboard's Evaluation view in a real headless Chromium against a real server."""

from __future__ import annotations

import pandas as pd
import pytest
from browser_helpers import open_page, shot

import kernelflow as kf

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def evaluations(eval_ui_server):
    """One classic and two GenAI evaluations logged into the server's store."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    saved = kf.get_tracking_uri()
    kf.set_tracking_uri(eval_ui_server.db_uri)
    kf.set_experiment("eval-ui")
    try:
        X, y = make_classification(400, 4, random_state=0)
        df = pd.DataFrame(X, columns=list("abcd"))
        df["label"] = y
        classic = kf.evaluate(LogisticRegression().fit(X, y), df, targets="label",
                              model_type="classifier")

        @kf.genai.scorer
        def polite(outputs):
            return kf.genai.Feedback(value="please" in outputs, rationale=f"said: {outputs}")

        data = [{"inputs": {"q": f"question {i}"}} for i in range(4)]
        first = kf.genai.evaluate(data, predict_fn=lambda q: "please" if q != "question 2"
                                  else "<b>no</b>", scorers=[polite], run_name="v1")
        second = kf.genai.evaluate(data, predict_fn=lambda q: "please", scorers=[polite],
                                   run_name="v2")
        kf.flush()
    finally:
        kf.set_tracking_uri(saved)
    return classic.run_id, first.run_id, second.run_id


def test_list_and_classic_evaluation(eval_ui_server, evaluations, page):
    classic, first, _ = evaluations
    open_page(page, f"{eval_ui_server.url}/evaluation", ".kf-eval-runs")
    assert page.locator(".kf-eval-run").count() == 3
    open_page(page, f"{eval_ui_server.url}/evaluation?run={classic}", ".kf-eval-metrics")
    metrics = page.locator(".kf-eval-metrics").inner_text()
    assert "accuracy_score" in metrics and "roc_auc" in metrics
    assert page.locator(".kf-eval-plots img").count() == 3
    assert page.locator(".kf-nav a.kf-active").inner_text() == "Evaluation"


def test_genai_rows_and_comparison(eval_ui_server, evaluations, page):
    _, first, second = evaluations
    open_page(page, f"{eval_ui_server.url}/evaluation?run={first}", ".kf-compare-with")
    assert page.locator(".kf-compare-with").all_inner_texts() == ["v2"]  # same kind only
    page.locator(".kf-compare-with").click()
    page.wait_for_url(f"**compare={second}**")
    page.locator(".kf-eval-changes").first.wait_for(state="visible")
    assert page.locator(".kf-eval-table tbody tr").count() == 4
    verdicts = page.locator(".kf-eval-table .kf-verdict")
    assert verdicts.all_inner_texts() == ["True", "True", "False", "True"]
    assert verdicts.nth(2).get_attribute("title") == "said: <b>no</b>"
    assert page.locator(".kf-eval-table b").count() == 0  # outputs shown as text
    changes = page.locator(".kf-eval-changes .kf-change")
    assert changes.count() == 1 and "question 2" in changes.inner_text()
    assert page.locator(".kf-eval-table td.kf-changed").count() == 1
    href = page.locator(".kf-trace-link").first.get_attribute("href")
    assert href.startswith("traces?trace_id=tr-")
    shot(page, "evaluation-compare")
