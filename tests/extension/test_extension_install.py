"""The extension is installed and enabled: a missing or broken install fails here, loudly."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
PACKAGE = EXTENSION / "kernelflow_lab"
JUPYTER = [sys.executable, "-m", "jupyter"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args: str) -> str:
    done = subprocess.run([*JUPYTER, *args], capture_output=True, text=True, timeout=120)
    return ANSI.sub("", done.stdout + done.stderr)


def test_the_labextension_is_installed_and_enabled():
    out = jupyter("labextension", "list")
    line = next((ln for ln in out.splitlines() if "kernelflow-lab" in ln), None)
    assert line is not None, f"kernelflow-lab is not installed (pip install -e '.[lab]'):\n{out}"
    assert "enabled" in line and "OK" in line, line


def test_the_server_extension_is_enabled_and_imports():
    out = jupyter("server", "extension", "list")
    assert re.search(r"kernelflow_lab\s+enabled", out), out
    assert re.search(r"kernelflow_lab \S+ OK", out), out


def test_the_installed_labextension_is_the_committed_build():
    import kernelflow_lab

    (path,) = kernelflow_lab._jupyter_labextension_paths()
    built = PACKAGE / path["src"]
    meta = json.loads((built / "package.json").read_text())
    assert meta["name"] == path["dest"] == kernelflow_lab.LABEXTENSION_NAME
    remote = meta["jupyterlab"]["_build"]["load"]
    assert (built / remote).is_file(), f"{remote} is missing: rebuild with `npm run build:prod`"
    from jupyter_core.paths import jupyter_path

    installed = [Path(p) / "kernelflow-lab" / remote for p in jupyter_path("labextensions")]
    assert any(p.is_file() for p in installed), (
        f"the installed labextension is not the committed build ({remote}); reinstall: "
        "pip install -e '.[lab]'")


def test_jupyter_server_proxy_finds_the_dashboard():
    from jupyter_server_proxy.config import get_entrypoint_server_processes

    (process,) = [p for p in get_entrypoint_server_processes() if p.name == "kernelflow"]
    assert process.absolute_url  # the dashboard serves the full path (--prefix)
    assert not process.launcher_entry.enabled  # the labextension has its own tile
    token = process.request_headers_override["Authorization"].removeprefix("Bearer ")
    assert len(token) >= 32 and process.environment == {"KERNELFLOW_TOKEN": token}
    command = process.command(port=4321, base_url="/user/ann/")
    assert command[:3] == [sys.executable, "-m", "kernelflow"]
    assert command[command.index("--prefix") + 1] == "/user/ann/kernelflow"
    assert command[command.index("--port") + 1] == "4321"
    assert "--token" not in command  # a command line is visible to other users (ps)


def test_the_package_uses_only_kernelflows_public_api():
    """Adapters read the store through kernelflow.Client and exported names only."""
    offences = []
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not (
                    node.attr.startswith("__") and node.attr.endswith("__")):
                if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                    offences.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kernelflow"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                parts = [p for p in (node.module or "").split(".") if p.startswith("_")]
                if private or parts:
                    offences.append(f"{path.name}:{node.lineno} from {node.module} import ...")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("kernelflow_dashboard", "kernelflow_serving", "kernelflow_gateway")):
                offences.append(f"{path.name}:{node.lineno} imports another adapter")
    assert offences == []


@pytest.mark.parametrize("module", ["kernelflow_lab", "kernelflow_lab.proxy"])
def test_the_modules_jupyter_imports_at_start_stay_light(module):
    code = (f"import sys, {module}; heavy = [m for m in ('panel', 'bokeh', 'ray', 'litellm', "
            "'torch', 'kernelflow_dashboard') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
