"""Fixtures for the evaluation tests: a real IPython shell with ``%load_ext kernelflow``."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def eval_shell(tracking_uri):
    """A real IPython InteractiveShell with the kernelflow magics loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kernelflow")
    yield ip
    ip.run_line_magic("unload_ext", "kernelflow")
