"""binder/07-llm-gateway.ipynb, executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.slow]
NOTEBOOK = Path(__file__).resolve().parents[2] / "binder" / "07-llm-gateway.ipynb"


def test_llm_gateway_demo_runs_and_records_its_calls(tracking_uri, client, tmp_path,
                                                     monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KERNELFLOW_GATEWAY_URL", raising=False)
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    llm_cell = next(c for c in nb.cells if c.source.startswith("%%kf llm"))
    markdown = [o["data"]["text/markdown"] for o in llm_cell.outputs
                if "text/markdown" in o.get("data", {})]
    assert markdown == ["echo: Explain vector databases in one sentence."]
    calls = client.search_gateway_calls()
    by_route = {c["route"]: c for c in calls}
    assert by_route["support"]["provider"] == "kernelflow"
    assert by_route["broken"]["fallbacks"] >= 1 and by_route["broken"]["status"] == 200
    run = next(r for r in client.search_runs([client.get_experiment_by_name(
        "binder-gateway").experiment_id]) if r.info.run_name == "asking")
    assert len(client.search_traces(run_id=run.info.run_id)) == 2  # %%kf llm and chat()
    assert "sk-demo-not-a-real-key" not in str(calls)
