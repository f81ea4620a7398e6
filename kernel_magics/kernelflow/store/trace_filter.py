"""Trace search filters and ordering, compiled to parameterised SQL over ``traces t``.

The core grammar (:mod:`kernelflow.search`) with the trace's own keys:
``trace.status`` (or ``state``), ``trace.name``, ``trace.timestamp_ms``,
``trace.execution_time_ms``, ``trace.run_id``, ``trace.total_tokens``,
``trace.cost``, ``tags.k``, ``metadata.k`` (``request_metadata.k``, as MLflow) and
``span.name`` / ``span.type`` / ``span.status`` (traces with such a span).
The ``trace.`` prefix (or ``attributes.``) is optional. User values only
ever become ``?`` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..search import LIST_OPS, NULL_OPS, STRING_OPS, Clause, Grammar, OrderBy, parse_order
from ..search import parse as parse_clauses
from .search_sql import SqlTable, compare_sql, compile_for

# filter key -> column of traces t
ATTRIBUTES: dict[str, str] = {
    "status": "state", "state": "state", "name": "name", "trace_name": "name",
    "trace_id": "trace_id", "request_id": "trace_id", "run_id": "run_id",
    "client_request_id": "client_request_id",
    "timestamp_ms": "request_time", "timestamp": "request_time", "request_time": "request_time",
    "execution_time_ms": "execution_time", "execution_time": "execution_time",
    "total_tokens": "total_tokens", "tokens": "total_tokens",
    "input_tokens": "input_tokens", "output_tokens": "output_tokens",
    "cost": "cost", "experiment_id": "experiment_id",
}
# span.<key> -> column of the spans table: traces with at least one such span match.
SPAN_KEYS = {"name": "name", "type": "span_type", "span_type": "span_type",
             "status": "status_code"}
# MLflow 2 status names are accepted too.
_STATUS_ALIASES = {"OK": "OK", "ERROR": "ERROR", "IN_PROGRESS": "IN_PROGRESS",
                   "STATE_UNSPECIFIED": "STATE_UNSPECIFIED", "TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}
HINT = ("Write clauses like: trace.status = 'OK' AND trace.name = 'chat' AND "
        "trace.execution_time_ms > 100 AND tags.env = 'prod' AND metadata.`mlflow.sourceRun` = '...'")
TRACES = Grammar(
    name="trace filter",
    attributes=ATTRIBUTES,
    numeric=frozenset({"request_time", "execution_time", "total_tokens", "input_tokens",
                       "output_tokens", "cost", "experiment_id"}),
    kinds={"tag": STRING_OPS | LIST_OPS | NULL_OPS, "metadata": STRING_OPS | LIST_OPS | NULL_OPS,
           "span": STRING_OPS | LIST_OPS},
    hint=HINT,
    prefixes={"trace": "attribute", "attributes": "attribute", "attribute": "attribute",
              "attr": "attribute", "tags": "tag", "tag": "tag", "metadata": "metadata",
              "request_metadata": "metadata", "span": "span", "spans": "span"},
    unknown_attribute="unknown trace attribute {name!r}; known: {known}",
    bad_operator="operator {op} cannot be used with {key!r}; use one of {allowed}",
    order_hint="Order traces by trace attributes, like 'timestamp_ms DESC' or 'execution_time_ms'.",
    kind_keys={"span": SPAN_KEYS},
)


def _span_clause(clause: Clause, params: list) -> str:
    cond = compare_sql(SPAN_KEYS[clause.key], clause.op, clause.value, params)
    return f"t.trace_id IN (SELECT trace_id FROM spans WHERE {cond})"


def _status(value: str) -> str:
    return _STATUS_ALIASES.get(value.upper(), value)


TABLE = SqlTable("t", ("trace_id",),
                 {"tag": ("trace_tags", ""), "metadata": ("trace_metadata", "")},
                 custom={"span": _span_clause}, values={"state": _status})


@dataclass(frozen=True)
class TraceOrder:
    column: str
    ascending: bool


def parse_trace_filter(source: str | None) -> list[Clause]:
    """Parse a trace filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token, with an example.
    """
    return parse_clauses(source, TRACES)


def parse_trace_order(order_by: list[str] | str | None) -> list[TraceOrder]:
    """Parse order_by terms such as ``"timestamp_ms DESC"`` or ``"trace.execution_time_ms"``."""
    if isinstance(order_by, list):
        order_by = [str(t) for t in order_by]
    return [TraceOrder("t." + ATTRIBUTES[o.key], o.ascending)
            for o in parse_order(order_by, TRACES, kinds=frozenset())]


def compile_trace_clause(clause: Clause, params: list) -> str:
    """A SQL condition on ``traces t`` for one clause, appending its parameters."""
    return compile_for(clause, TRACES, TABLE, params)


def compile_trace_order(order: list[TraceOrder]) -> str:
    """ORDER BY text; the newest first when nothing else decides."""
    terms = [f"({o.column} IS NULL), {o.column} {'ASC' if o.ascending else 'DESC'}" for o in order]
    terms.append("t.request_time DESC, t.rowid DESC")
    return ", ".join(terms)


__all__ = ["ATTRIBUTES", "OrderBy", "TRACES", "compile_trace_clause", "compile_trace_order",
           "parse_trace_filter", "parse_trace_order"]
