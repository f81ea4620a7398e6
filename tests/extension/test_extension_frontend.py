"""The TypeScript side: its jest unit tests, and the committed build matching the sources.

Both need the extension's node_modules (``npm ci`` in extension/, which
``scripts/install.sh test`` runs); without them these tests fail, saying so.
"""

from __future__ import annotations

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


@pytest.mark.slow
def test_the_committed_labextension_is_built_from_the_current_sources():
    """Rebuild in place: the build is deterministic (content-hashed names), so an up-to-date
    commit is left exactly as it was; a stale one is replaced by the fresh build to commit.

    (A copy elsewhere would not do: the bundler names modules by their real paths.)
    """
    npm()
    before = snapshot(BUILT)
    done = subprocess.run([npm(), "run", "build:prod"], cwd=EXTENSION, capture_output=True,
                          text=True, timeout=300, env=node_env())
    assert done.returncode == 0, done.stdout + done.stderr
    after = snapshot(BUILT)
    assert sorted(after) == sorted(before), (
        "extension/kernelflow_lab/labextension was stale; it is rebuilt now: commit it")
    changed = [name for name in after if after[name] != before[name]]
    assert changed == [], f"rebuilt files differ from the committed ones: {changed}"
