"""The design's import rules, read from the source with ``ast`` (no import needed).

- The core (``kernelflow``) imports none of its adapter packages.
- No adapter package imports another one.
- Only ``kernelflow/store/`` imports sqlite3 / sqlite_utils or holds SQL text.
- Outside the core's store and client, nobody touches a private name of the core:
  no ``._store``, no ``from kernelflow.x import _y``, no ``kernelflow.x._y``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "kernel_magics" / "kernelflow"
ADAPTERS = {
    "kernelflow_dashboard": ROOT / "dashboard" / "kernelflow_dashboard",
    "kernelflow_serving": ROOT / "serving" / "kernelflow_serving",
    "kernelflow_gateway": ROOT / "gateway" / "kernelflow_gateway",
    "kernelflow_lab": ROOT / "extension" / "kernelflow_lab",
}
# The Client and its mixins own the store handle (registry.py, and a feature's
# ``client.py`` such as tracing/client.py); the store owns SQL.
STORE_OWNERS = {CORE / "registry.py", *CORE.rglob("client.py")}
SQL = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|"
                 r"DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s|PRAGMA\s)", re.I | re.S)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "node_modules" not in p.parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_core_imports_no_adapter():
    bad = [f"{_rel(p)} imports {m}" for p in _files(CORE)
           for m in _top(_imported_modules(_tree(p))) & set(ADAPTERS)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", sorted(ADAPTERS))
def test_no_adapter_imports_another(package):
    others = set(ADAPTERS) - {package}
    bad = [f"{_rel(p)} imports {m}" for p in _files(ADAPTERS[package])
           for m in _top(_imported_modules(_tree(p))) & others]
    assert not bad, "\n".join(bad)


def _outside_store() -> list[Path]:
    files = [p for p in _files(CORE) if (CORE / "store") not in p.parents]
    for folder in ADAPTERS.values():
        if folder.exists():
            files += _files(folder)
    return files


def test_only_the_store_speaks_sqlite():
    bad = []
    for path in _outside_store():
        tree = _tree(path)
        for m in _top(_imported_modules(tree)) & {"sqlite3", "sqlite_utils"}:
            bad.append(f"{_rel(path)} imports {m}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
                bad.append(f"{_rel(path)}:{node.lineno} holds SQL: {node.value[:60]!r}")
    assert not bad, "\n".join(bad)


def _private_uses(path: Path) -> list[str]:
    tree = _tree(path)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_store" and path not in STORE_OWNERS:
            bad.append(f"{_rel(path)}:{node.lineno} touches ._store")
        if isinstance(node, ast.ImportFrom) and node.module and not node.level \
                and node.module.split(".")[0] == "kernelflow":
            bad += [f"{_rel(path)}:{node.lineno} imports private {node.module}.{a.name}"
                    for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return bad


def test_adapters_use_only_public_names_of_the_core():
    files = [p for folder in ADAPTERS.values() if folder.exists() for p in _files(folder)]
    bad = [line for path in files for line in _private_uses(path)]
    assert not bad, "\n".join(bad)


def test_tests_use_public_seams_for_the_store():
    """Tests reach a store through ``kernelflow.client.get_store`` or ``Client(store=...)``."""
    tests = Path(__file__).resolve().parents[1]
    bad = [f"{path.relative_to(ROOT)}:{node.lineno} touches ._store"
           for path in sorted(tests.rglob("*.py")) if path.name != Path(__file__).name
           for node in ast.walk(_tree(path))
           if isinstance(node, ast.Attribute) and node.attr == "_store"]
    assert not bad, "\n".join(bad)


def test_the_core_outside_the_client_never_touches_the_store_handle():
    bad = [line for path in _outside_store() if CORE in path.parents
           for line in _private_uses(path) if "._store" in line]
    assert not bad, "\n".join(bad)


def test_the_rules_catch_a_violation(tmp_path):
    """The checks above are real: a file breaking each rule is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom kernelflow.fluent import _current_experiment_id\n"
                   "x = client._store\nq = 'SELECT a FROM b'\n", encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = _private_uses(bad)
        assert any("._store" in f for f in found)
        assert any("_current_experiment_id" in f for f in found)
        assert "sqlite3" in _imported_modules(_tree(bad))
        assert SQL.match("SELECT a FROM b") and not SQL.match("select the model")
    finally:
        ROOT = saved
