"""The test tree itself: pytest needs unique module basenames across folders."""

from __future__ import annotations

import collections
import pathlib


def test_test_module_basenames_are_unique():
    names = collections.Counter(p.name for p in pathlib.Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, count in names.items() if count > 1] == []
