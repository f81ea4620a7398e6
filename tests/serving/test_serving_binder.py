"""``binder/06-serve-a-model.ipynb``, executed end to end by nbclient in a real kernel."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import nbformat
import pytest
from serving_helpers import processes_under, wait_for

import kernelflow

pytestmark = [pytest.mark.notebook, pytest.mark.ray, pytest.mark.slow]

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "binder" / "06-serve-a-model.ipynb"


def test_the_serving_demo_runs_and_the_version_switches(tracking_uri, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    ray_tmp = tempfile.mkdtemp(prefix="kfr", dir="/tmp")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        outputs = {i: "".join(o.get("text", "") + str(o.get("data", {}))
                              for o in cell.get("outputs", []))
                   for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
        text = "\n".join(outputs.values())
        assert "(200, '1'" in text  # the first answer came from version 1
        assert "statuses [200]" in text and "(200, '2'" in text  # none failed; then version 2
        assert "kernelflow-deployments" in text and "curl -s http://127.0.0.1:" in text
        again = next(i for i, c in enumerate(nb.cells) if c.source.startswith("again ="))
        assert "True" in outputs[again]  # `again is server`: the running deployment was reused
        dep = kernelflow.Client(tracking_uri).get_deployment("iris-served")
        assert (dep.status, dep.model_version) == ("STOPPED", "2")
        wait_for(lambda: not processes_under(ray_tmp), timeout=30)
    finally:
        for pid in processes_under(ray_tmp):
            os.kill(pid, 9)
        shutil.rmtree(ray_tmp, ignore_errors=True)
