"""The serving package's entry points stay light: no Ray until a model is served."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import kernelflow.cli, kernelflow.plugins
from kernelflow.magics.parser import build_parser
import kernelflow_serving, kernelflow_serving.commands
assert {"serve", "deployments"} <= set(kernelflow.cli.commands())
assert {"serve", "deployments"} <= set(kernelflow.plugins.load_magics())
kernelflow.cli.build_parser(); build_parser()
heavy = sorted(m for m in ("ray", "ray.serve", "starlette", "uvicorn") if m in sys.modules)
print(heavy)
"""


def test_commands_and_magics_load_without_ray():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
