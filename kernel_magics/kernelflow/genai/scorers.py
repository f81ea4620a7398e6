"""Scorers: functions that judge one row (inputs, outputs, expectations, trace).

``@kf.genai.scorer`` turns a plain function into a :class:`Scorer`. It is called
with the keyword arguments it names among ``inputs``, ``outputs``,
``expectations`` and ``trace``, and may return a number, a bool, a string, a
:class:`Feedback` (value with a rationale) or a list of Feedbacks.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidParameterError

ROW_FIELDS = ("inputs", "outputs", "expectations", "trace")


@dataclass
class Feedback:
    """One verdict: a value with its rationale, or an error instead of a value.

    Attributes:
        value: a number, a bool or a string (``"yes"``/``"no"`` for LLM judges).
        rationale: why (an LLM judge's explanation).
        name: the assessment's name; defaults to the scorer's name.
        error: the error message when scoring failed (then ``value`` is None).
        source_type: ``"CODE"``, ``"LLM_JUDGE"`` or ``"HUMAN"``.
        source_id: which code or model produced it.
        metadata: extra string key/values.
    """

    value: Any = None
    rationale: str | None = None
    name: str | None = None
    error: str | None = None
    source_type: str = "CODE"
    source_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class Scorer:
    """Base class of scorers: a ``name`` and ``__call__(**row_fields)``.

    Subclasses implement :meth:`__call__` with any of ``inputs``, ``outputs``,
    ``expectations`` and ``trace`` as keyword arguments.
    """

    name: str = "scorer"
    source_type: str = "CODE"
    needs_trace: bool = False  # True: the row's Trace is fetched and passed as ``trace``

    def __call__(self, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, row: dict[str, Any]) -> list[Feedback]:
        """Score one row; the value(s) normalised to a list of :class:`Feedback`."""
        return as_feedbacks(self.__call__(**self._arguments(row)), self.name, self.source_type,
                            self.source_id)

    @property
    def source_id(self) -> str:
        """Who produced the feedback: the scorer's name (a judge: its model)."""
        return self.name

    def _arguments(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: row.get(k) for k in ROW_FIELDS}


class FunctionScorer(Scorer):
    """A scorer made from a function by :func:`scorer`."""

    def __init__(self, fn: Callable, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        params = inspect.signature(fn).parameters
        unknown = [p for p in params if p not in ROW_FIELDS
                   and params[p].kind not in (inspect.Parameter.VAR_KEYWORD,)
                   and params[p].default is inspect.Parameter.empty]
        if unknown:
            raise InvalidParameterError(
                f"Scorer {self.name!r} takes {unknown}; a scorer's parameters must be among "
                f"{', '.join(ROW_FIELDS)}.")
        takes_all = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
        self._wanted = ROW_FIELDS if takes_all else tuple(p for p in params if p in ROW_FIELDS)
        self.needs_trace = "trace" in self._wanted
        functools.update_wrapper(self, fn)

    def __call__(self, **kwargs: Any) -> Any:
        return self.fn(**kwargs)

    def _arguments(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: row.get(k) for k in self._wanted}

    def __repr__(self) -> str:
        return f"<scorer {self.name}>"


def scorer(fn: Callable | None = None, *, name: str | None = None) -> Any:
    """Make a function a scorer for ``kf.genai.evaluate``.

    Example::

        @kf.genai.scorer
        def exact_match(outputs, expectations):
            return outputs == expectations["expected_response"]

    Args:
        fn: the function; its parameters name what it needs among ``inputs``,
            ``outputs``, ``expectations`` and ``trace``.
        name: the assessment name (default: the function's name).

    Returns:
        A :class:`Scorer`; still callable like the function.
    """
    if fn is None:
        return lambda f: FunctionScorer(f, name)
    return FunctionScorer(fn, name)


def as_feedbacks(result: Any, name: str, source_type: str = "CODE",
                 source_id: str | None = None) -> list[Feedback]:
    """Normalise what a scorer returned to a list of Feedback (each with a name)."""
    items = result if isinstance(result, list) else [result]
    out = []
    for item in items:
        if not isinstance(item, Feedback):
            if item is not None and not isinstance(item, (bool, int, float, str)):
                raise InvalidParameterError(
                    f"Scorer {name!r} returned {type(item).__name__}; return a number, a bool, "
                    "a string or a kf.genai.Feedback.")
            item = Feedback(value=item)
        if item.name is None:
            item.name = name
        if item.source_id is None:
            item.source_id = source_id or name
        if item.source_type == "CODE" and source_type != "CODE":
            item.source_type = source_type
        out.append(item)
    return out


def numeric(value: Any) -> float | None:
    """A value as a number for averaging: bools and yes/no as 1/0; None if not numeric."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("yes", "no", "pass", "fail"):
        return 1.0 if value.strip().lower() in ("yes", "pass") else 0.0
    return None
