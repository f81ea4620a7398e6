"""`import kernelflow` and `%load_ext kernelflow` stay light: no heavy library at load time."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["ipywidgets", "anywidget", "matplotlib", "panel", "holoviews", "bokeh", "ray", "litellm", "torch",
         "sklearn", "papermill", "nbclient"]

SCRIPT = f"""
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "kernelflow")
shell.run_line_magic("kf", "--help")
shell.run_line_magic("kf", "status")
print("LOADED", sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_load_ext_imports_no_heavy_library(tracking_uri):
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout
