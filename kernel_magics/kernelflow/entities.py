"""Plain data objects returned by the tracking and registry APIs (MLflow's shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Experiment:
    """An experiment: a named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the experiment as a plain dict."""
        return asdict(self)

    def __repr__(self) -> str:
        from .widgets.reprs import experiment_text

        return experiment_text(self)

    def _repr_html_(self) -> str:
        from .widgets.reprs import experiment_html

        return experiment_html(self)


@dataclass(slots=True)
class Metric:
    """One point of a metric's history."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass
class Param:
    """A run parameter."""

    key: str
    value: str


@dataclass
class RunTag:
    """A run tag."""

    key: str
    value: str


@dataclass
class RunInfo:
    """Metadata of a run."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = "active"

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass
class RunData:
    """Latest metric values, params and tags of a run."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: the latest point of each metric with its step and timestamp
    latest_metrics: dict[str, Metric] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Run:
    """A run: ``info`` plus ``data``, as MLflow's ``Run``."""

    info: RunInfo
    data: RunData

    def to_dict(self) -> dict[str, Any]:
        """Return the run as a nested plain dict."""
        return {"info": asdict(self.info), "data": asdict(self.data)}

    def __repr__(self) -> str:
        from .widgets.reprs import run_text

        return run_text(self)

    def _repr_html_(self) -> str:
        from .widgets.reprs import run_html

        return run_html(self)


class MetricHistory(Sequence):
    """The history of one metric, backed by numpy arrays.

    Behaves as a list of :class:`Metric` (what MLflow returns), but keeps the
    points as arrays so a million points load in milliseconds. Use ``steps``,
    ``timestamps`` and ``values`` (numpy arrays) or :meth:`to_pandas` for speed.
    """

    def __init__(self, key: str, timestamps, steps, values) -> None:
        self.key = key
        self.timestamps = timestamps
        self.steps = steps
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return MetricHistory(
                self.key, self.timestamps[index], self.steps[index], self.values[index]
            )
        return Metric(
            self.key,
            float(self.values[index]),
            int(self.timestamps[index]),
            int(self.steps[index]),
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def to_pandas(self):
        """Return the history as a DataFrame with columns step, timestamp, value."""
        import pandas as pd

        return pd.DataFrame(
            {"step": self.steps, "timestamp": self.timestamps, "value": self.values}
        )

    def __repr__(self) -> str:
        return f"<MetricHistory {self.key!r}: {len(self)} points>"


@dataclass
class RegisteredModel:
    """A named model in the registry."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)

    def _repr_html_(self) -> str:
        from .widgets.reprs import registered_model_html

        return registered_model_html(self)


@dataclass
class ModelVersion:
    """One version of a registered model."""

    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str = "READY"
    current_stage: str = "None"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    user_id: str | None = None
    run_link: str | None = None
    status_message: str | None = None
    storage_location: str | None = None

    def __repr__(self) -> str:
        from .widgets.reprs import model_version_text

        return model_version_text(self)

    def _repr_html_(self) -> str:
        from .widgets.reprs import model_version_html

        return model_version_html(self)


@dataclass
class ModelLabelChange:
    """One span of time an alias or stage pointed at a version (beyond MLflow).

    ``kind`` is ``alias`` or ``stage``; ``end_time`` is None while it still holds.
    """

    name: str
    kind: str
    label: str
    version: str
    start_time: int
    end_time: int | None = None
