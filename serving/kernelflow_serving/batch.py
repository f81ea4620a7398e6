"""One ``predict`` for many requests: what ``@serve.batch`` hands the replica.

No Ray here, so the grouping is tested directly.
"""

from __future__ import annotations

from . import protocol
from .model import ModelSlot


def predict_many(slots: dict[str, ModelSlot], items: list) -> list:
    """Predict for a batch of ``(route, ParsedRequest)``; one result per item.

    Frames for the same model with the same columns and no params are concatenated and
    predicted in one call; the answer is split back by row counts. Anything else, or a
    group whose combined call fails, is predicted one request at a time, so each request
    gets its own answer or its own error.

    Returns:
        ``(body bytes or ScoringError, Resolved)`` per item, in order.
    """
    results: list = [None] * len(items)
    groups: dict[tuple, list[int]] = {}
    states = {route: slots[route].current for route in {r for r, _ in items}}
    for i, (route, parsed) in enumerate(items):
        if parsed.rows and not parsed.params:
            key = (route, tuple(map(str, parsed.data.columns)))
            groups.setdefault(key, []).append(i)
        else:
            results[i] = _predict_one(states[route], parsed)
    for (route, _), members in groups.items():
        if len(members) == 1 or not _predict_group(states[route], items, members, results):
            for i in members:
                results[i] = _predict_one(states[route], items[i][1])
    return results


def _predict_one(state, parsed: protocol.ParsedRequest):
    resolved, model = state
    try:
        return protocol.predictions_body(model.predict(parsed.data, params=parsed.params)), resolved
    except Exception as exc:
        return protocol.prediction_error(exc, parsed.data), resolved


def _predict_group(state, items: list, members: list[int], results: list) -> bool:
    import pandas as pd

    resolved, model = state
    frames = [items[i][1].data for i in members]
    try:
        out = model.predict(pd.concat(frames, ignore_index=True))
    except Exception:
        return False  # someone's rows are bad: answer each request on its own
    if not hasattr(out, "__len__") or len(out) != sum(len(f) for f in frames):
        return False
    start = 0
    for i, frame in zip(members, frames, strict=True):
        end = start + len(frame)
        part = out.iloc[start:end] if hasattr(out, "iloc") else out[start:end]
        results[i] = protocol.predictions_body(part), resolved
        start = end
    return True
