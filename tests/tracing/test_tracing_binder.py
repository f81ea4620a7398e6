"""binder/05-trace-llm-calls.ipynb, executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

import kernelflow as kf

pytestmark = pytest.mark.notebook
NOTEBOOK = Path(__file__).resolve().parents[2] / "binder" / "05-trace-llm-calls.ipynb"


def test_trace_llm_calls_demo_runs_and_records_its_chain(tracking_uri, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.chdir(tmp_path)
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    chain_cell = next(c for c in nb.cells if "def answer" in c.source)
    html = "".join(o.get("data", {}).get("text/html", "") for o in chain_cell.outputs)
    assert "kf-trace" in html and "litellm.completion" in html and "RETRIEVER" in html
    [trace] = kf.search_traces(filter_string="tags.demo = 'binder'", return_type="list",
                               experiment_ids=[kf.get_experiment_by_name("binder-traces")
                                               .experiment_id])
    spans = [s.name for s in trace.data.spans]
    assert spans == ["answer", "retrieve", "litellm.completion", "litellm.completion"]
    assert trace.info.token_usage["total_tokens"] > 24
    assert trace.info.cost["total_cost"] > 0
    assert [a.name for a in kf.Client().get_assessments(trace.info.trace_id)] == ["helpful"]
