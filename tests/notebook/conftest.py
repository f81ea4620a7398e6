"""Fixtures for the notebook tests: a real IPython shell with ``%load_ext kernelflow``."""

from __future__ import annotations

import os
import pathlib

import pytest

BINDER = pathlib.Path(__file__).resolve().parents[2] / "binder"


@pytest.fixture
def shell(tracking_uri):
    """A real IPython InteractiveShell with the kernelflow magics loaded and ``kf`` imported."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kernelflow")
    ip.run_cell("import kernelflow as kf", store_history=False)
    yield ip
    from kernelflow import capture

    capture.disable_cell_capture(ip)
    capture.enable_history_capture(ip, on=False)
    ip.run_line_magic("unload_ext", "kernelflow")


@pytest.fixture
def run_cell(shell):
    """Run a cell; return IPython's ExecutionResult."""

    def run(source: str):
        return shell.run_cell(source, store_history=True)

    return run


@pytest.fixture
def kernel_env(tracking_uri, tmp_path, monkeypatch):
    """Environment for real kernels: the test's tracking file, quiet, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return dict(os.environ)


@pytest.fixture
def binder_dir():
    """The repository's binder/ folder."""
    return BINDER


@pytest.fixture
def execute_notebook(kernel_env):
    """Execute a notebook with nbclient and a real python3 kernel, in a given folder."""
    from nbclient import NotebookClient

    def execute(nb, cwd, timeout: int = 120):
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}})
        client.execute()
        return client

    return execute
