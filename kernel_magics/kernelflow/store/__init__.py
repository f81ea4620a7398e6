"""The tracking store: the only part of kernelflow that speaks SQL."""

from __future__ import annotations

from .base import StoreBase, now_ms
from .tracking import TrackingStore

try:  # the registry half lives in its own module
    from .registry import RegistryStore
except ImportError:  # pragma: no cover - only while the registry module is absent
    class RegistryStore:  # type: ignore[no-redef]
        pass


class SqliteStore(RegistryStore, TrackingStore, StoreBase):
    """One SQLite tracking file with its artifact root."""


__all__ = ["SqliteStore", "StoreBase", "now_ms"]
