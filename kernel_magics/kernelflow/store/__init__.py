"""The tracking store: the only part of kernelflow that speaks SQL."""

from __future__ import annotations

from .base import StoreBase, now_ms
from .datasets import DatasetStore
from .deployments import DeploymentStore
from .evaluation import EvaluationDatasetStore
from .gateway import GatewayStore
from .logged_models import LoggedModelStore
from .registry import RegistryStore
from .traces import TraceStore
from .tracking import TrackingStore


class SqliteStore(DatasetStore, DeploymentStore, GatewayStore, LoggedModelStore, RegistryStore,
                  TraceStore, TrackingStore, EvaluationDatasetStore, StoreBase):
    """One SQLite tracking file with its artifact root."""


__all__ = ["SqliteStore", "StoreBase", "now_ms"]
