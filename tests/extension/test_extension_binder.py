"""Binder starts Lab with the extension: postBuild installs it and checks it is enabled."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

BINDER = Path(__file__).resolve().parents[2] / "binder"


def test_postbuild_installs_the_lab_extra_and_fails_without_the_extension():
    script = (BINDER / "postBuild").read_text()
    extras = re.search(r'pip install .*-e "\.\[([a-z,]+)\]"', script)
    assert extras and ({"lab", "notebook", "dashboard"} <= set(extras.group(1).split(","))
                       or extras.group(1) == "all")
    assert "set -euo pipefail" in script
    assert 'grep -q "kernelflow-lab.*enabled.*OK"' in script
    assert 'grep -q "kernelflow_lab.*enabled"' in script


def test_postbuild_checks_match_what_jupyter_prints_here():
    """The greps postBuild runs succeed against this (installed) environment."""
    for command, pattern in ((["labextension", "list"], "kernelflow-lab.*enabled.*OK"),
                             (["server", "extension", "list"], "kernelflow_lab.*enabled")):
        done = subprocess.run(["jupyter", *command], capture_output=True, text=True, timeout=120,
                              env=_env())
        assert re.search(pattern, done.stdout + done.stderr), done.stdout + done.stderr


def test_binder_requirements_bring_jupyterlab_4_and_the_server_proxy():
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    assert any(re.fullmatch(r"jupyterlab>=4[.\d]*", ln) for ln in lines)
    assert any(ln.startswith("jupyter-server-proxy") for ln in lines)


def _env() -> dict[str, str]:
    import os
    import sys

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
