"""pytest-jupyter's server fixtures (``jp_fetch``...), for the server extension's handler tests only.

Imported here rather than as a root plugin: its autouse event-loop fixtures and async test
hooks stay out of the rest of the suite (the browser tests drive Playwright's own loop).
"""

import os

import pytest  # noqa: E402
from pytest_jupyter.jupyter_server import *  # noqa: F403


@pytest.fixture(autouse=True)
def _lab_environment_restored(monkeypatch):
    """The server extension tells kernels about the dashboard through os.environ; undo it."""
    for name in ("KERNELFLOW_LAB_DASHBOARD", "KERNELFLOW_LAB_STORE", "KERNELFLOW_TRACKING_URI"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored after the test
        if not os.environ[name]:
            monkeypatch.delenv(name)
