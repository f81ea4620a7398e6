"""Both backends implement the whole Store protocol; the Client asks for nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kernelflow.errors import KernelflowError
from kernelflow.store import SqliteStore
from kernelflow.store.protocol import STORE_METHODS, Store
from kernelflow.store.rest import RestStore

CORE = Path(__file__).resolve().parents[2] / "kernel_magics" / "kernelflow"


@pytest.mark.parametrize("backend", [SqliteStore, RestStore])
def test_backend_has_every_member_of_the_protocol(backend):
    missing = sorted(name for name in STORE_METHODS if not callable(getattr(backend, name, None)))
    assert not missing, f"{backend.__name__} lacks {missing}"


def test_the_client_uses_only_the_protocol():
    sources = [CORE / "client.py", CORE / "registry.py", *CORE.glob("*/client.py")]
    called = set()
    for path in sources:
        called |= set(re.findall(r"self\._store\.(\w+)", path.read_text(encoding="utf-8")))
    assert called - {"writer"} <= STORE_METHODS, sorted(called - {"writer"} - STORE_METHODS)


def test_the_stores_a_client_gets_are_stores(tmp_path):
    from kernelflow.client import get_store

    assert isinstance(get_store(f"sqlite:///{tmp_path / 'k.db'}"), Store)
    assert isinstance(get_store("http://127.0.0.1:9"), Store)


def test_what_http_cannot_do_is_a_clear_error():
    """A protocol member the HTTP store lacks says so (today it implements them all)."""
    from kernelflow.store import rest

    store = RestStore("http://127.0.0.1:9")
    with pytest.raises(KernelflowError, match="not available over HTTP.*sqlite:///"):
        rest._unsupported("compact_store")(store, "x")
    fallbacks = [n for n in sorted(STORE_METHODS)
                 if "Not available over HTTP" in (getattr(RestStore, n).__doc__ or "")]
    for name in fallbacks:
        with pytest.raises(KernelflowError, match="not available over HTTP"):
            getattr(store, name)("x")
