"""A dashboard whose pages fail to import refuses to start: never a quiet API-only server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kernelflow.errors import KernelflowError

BROKEN_UI = (
    "import sys; sys.modules['kernelflow_dashboard.ui'] = None\n"  # importing it now fails
    "from kernelflow.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_load_pages_raises_when_the_ui_is_broken(monkeypatch):
    from kernelflow_dashboard import server

    monkeypatch.delenv("KERNELFLOW_DASHBOARD_API_ONLY", raising=False)
    monkeypatch.setitem(sys.modules, "kernelflow_dashboard.ui", None)
    with pytest.raises(KernelflowError, match="pages failed to import"):
        server.load_pages()


def test_api_only_is_only_on_request(monkeypatch):
    from kernelflow_dashboard import server

    monkeypatch.setenv("KERNELFLOW_DASHBOARD_API_ONLY", "1")
    assert server.load_pages() is None
    monkeypatch.delenv("KERNELFLOW_DASHBOARD_API_ONLY")
    assert "/runs" in server.load_pages()


def test_kernelflow_ui_exits_with_the_reason(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", BROKEN_UI, "ui", "--store", f"sqlite:///{tmp_path / 'k.db'}",
         "--port", "0"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pages failed to import" in done.stderr and "Traceback" not in done.stderr
