"""The TypeScript side: its jest unit tests, and the committed build matching the sources.

Both need the extension's node_modules (``npm ci`` in extension/, which
``scripts/install.sh test`` runs); without them these tests fail, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
BUILT = EXTENSION / "kernelflow_lab" / "labextension"


def npm() -> str:
    path = shutil.which("npm")
    assert path, "npm is not installed: install Node 20+ (scripts/install.sh test needs it)"
    assert (EXTENSION / "node_modules").is_dir(), (
        "extension/node_modules is missing: run `npm ci` in extension/ (scripts/install.sh test)")
    return path


def node_env() -> dict[str, str]:
    # the build runs `jupyter-builder`: this interpreter's, not another one on PATH
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("CI", "true")
    return env


def test_the_typescript_unit_tests_pass():
    done = subprocess.run([npm(), "test", "--", "--ci"], cwd=EXTENSION, capture_output=True,
                          text=True, timeout=240, env=node_env())
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    tests = re.search(r"Tests:\s+(\d+) passed, (\d+) total", report)
    assert tests and int(tests.group(1)) == int(tests.group(2)) > 0, report


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    """The build, minus what depends on where the checkout lies: the bundler numbers the
    federation entry's modules by path, which renames ``remoteEntry.<hash>.js``. Our code's
    chunks are named by their content and compared byte for byte."""
    out = {}
    for name, data in files.items():
        if re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", name):
            out["static/remoteEntry.js"] = re.sub(rb"\d+", b"0", data)
        elif name == "package.json":
            meta = json.loads(data)
            meta["jupyterlab"]["_build"].pop("load", None)
            out[name] = json.dumps(meta, sort_keys=True).encode()
        else:
            out[name] = data
    return out


@pytest.mark.slow
def test_the_committed_labextension_is_built_from_the_current_sources():
    """Rebuild in place, compare, and put the committed build back as it was.

    (A copy elsewhere would not do: the bundler resolves node_modules by real path.)
    """
    npm()
    before = snapshot(BUILT)
    try:
        done = subprocess.run([npm(), "run", "build:prod"], cwd=EXTENSION, capture_output=True,
                              text=True, timeout=300, env=node_env())
        assert done.returncode == 0, done.stdout + done.stderr
        after = snapshot(BUILT)
    finally:
        shutil.rmtree(BUILT, ignore_errors=True)
        for name, data in before.items():
            (BUILT / name).parent.mkdir(parents=True, exist_ok=True)
            (BUILT / name).write_bytes(data)
    old, new = comparable(before), comparable(after)
    stale = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    assert stale == [], (
        f"extension/kernelflow_lab/labextension is stale ({stale}): run `npm run build:prod` "
        "in extension/, `pip install -e .`, and commit the build")
