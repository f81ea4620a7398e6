"""The wheel (what `pip install kernelflow` gets) ships the whole extension, with no Node."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_ships_the_labextension_the_server_config_and_the_proxy_entry(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("kernelflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n.split("/data/")[0] for n in names if ".data/data/" in n) + "/data/"
    built = sorted(p.name for p in (ROOT / "extension/kernelflow_lab/labextension/static").iterdir())
    shipped = sorted(n.rsplit("/", 1)[1] for n in names
                     if n.startswith(data + "share/jupyter/labextensions/kernelflow-lab/static/"))
    assert shipped == built
    assert data + "share/jupyter/labextensions/kernelflow-lab/package.json" in names
    assert data + "share/jupyter/labextensions/kernelflow-lab/install.json" in names
    assert data + "etc/jupyter/jupyter_server_config.d/kernelflow_lab.json" in names
    assert "kernelflow_lab/handlers.py" in names
    assert not [n for n in names if "node_modules" in n or n.startswith("extension/")]
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[jupyter_serverproxy_servers]\nkernelflow = kernelflow_lab.proxy:setup_kernelflow" \
        in entry_points
