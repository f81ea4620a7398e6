"""binder/08-evaluate.ipynb, executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import pathlib

import nbformat
import pytest

import kernelflow as kf

pytestmark = pytest.mark.notebook

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "binder" / "08-evaluate.ipynb"


def _html_outputs(nb) -> list[str]:
    return [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


def test_08_evaluate(eval_execute_notebook):
    nb = eval_execute_notebook(nbformat.read(NOTEBOOK, as_version=4))
    runs = {r.info.run_name: r for r in kf.search_runs(experiment_names=["binder-evaluate"],
                                                        output_format="list")}
    assert {"train", "candidate-vs-baseline", "capitals-v1", "evaluation"} <= set(runs)
    magic = runs["evaluation"]  # %kf evaluate made its own run
    assert magic.data.metrics["accuracy_score"] > 0.9
    candidate = runs["candidate-vs-baseline"].data.metrics
    assert candidate["accuracy_score"] - candidate["baseline_accuracy_score"] > 0.05
    genai = runs["capitals-v1"].data.metrics
    assert genai["exact_match/mean"] == pytest.approx(2 / 3)
    assert genai["correctness/mean"] == pytest.approx(2 / 3)
    html = _html_outputs(nb)
    assert any("kf-eval" in h and "data:image/png;base64" in h for h in html)
    assert any("kf-genai-eval" in h and "I don&#x27;t know" in h for h in html)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "accuracy_score=" in printed and "threshold 0.999" in printed
    assert kf.genai.datasets.get_dataset(name="capitals").to_df().shape[0] == 3
