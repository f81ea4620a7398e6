"""kernelflow's registry history over HTTP (``/api/2.0/kernelflow/``, beyond MLflow's API).

The SQLite store records every span an alias or a stage held a version
(``model_label_history``); MLflow has no endpoint for it, so it lives under
kernelflow's own prefix, where ``RestStore.get_model_label_history`` reads it.
"""

from __future__ import annotations

from kernelflow.entities import ModelLabelChange

from .request import Params
from .service import Api


def label_change(change: ModelLabelChange) -> dict:
    """One span of history: ``end_time`` is absent while the label still holds."""
    out = {"name": change.name, "kind": change.kind, "label": change.label,
           "version": str(change.version), "start_time": change.start_time}
    if change.end_time is not None:
        out["end_time"] = change.end_time
    return out


def get_label_history(api: Api, p: Params) -> dict:
    """GET /api/2.0/kernelflow/registered-models/label-history.

    Fields: ``name`` (required), ``kind`` (``alias`` or ``stage``; both when absent) and
    ``label`` (one alias or stage). Answers ``{"history": [...]}``, oldest first.
    """
    changes = api.client.get_model_label_history(
        p.need("name"), p.text("kind") or None, p.text("label") or None)
    return {"history": [label_change(c) for c in changes]}
