"""Names shared by the notebook side are defined once."""

from __future__ import annotations

import pathlib

import kernelflow

PACKAGE = pathlib.Path(kernelflow.__file__).parent


def test_error_tag_is_defined_once():
    from kernelflow import notebooks
    from kernelflow.magics import tracking

    sources = [p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")]
    assert sum(s.count('"kernelflow.error"') for s in sources) == 1
    assert tracking.ERROR_TAG == notebooks.ERROR_TAG == "kernelflow.error"
