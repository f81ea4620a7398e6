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

from ..search import Clause, OrderBy, _fail, _Parser, _unquote
from .search_sql import compare_sql

# filter key -> (column of traces t, numeric?)
ATTRIBUTES: dict[str, tuple[str, bool]] = {
    "status": ("t.state", False), "state": ("t.state", False),
    "name": ("t.name", False), "trace_name": ("t.name", False),
    "trace_id": ("t.trace_id", False), "request_id": ("t.trace_id", False),
    "run_id": ("t.run_id", False), "client_request_id": ("t.client_request_id", False),
    "timestamp_ms": ("t.request_time", True), "timestamp": ("t.request_time", True),
    "request_time": ("t.request_time", True),
    "execution_time_ms": ("t.execution_time", True), "execution_time": ("t.execution_time", True),
    "total_tokens": ("t.total_tokens", True), "tokens": ("t.total_tokens", True),
    "input_tokens": ("t.input_tokens", True), "output_tokens": ("t.output_tokens", True),
    "cost": ("t.cost", True), "experiment_id": ("t.experiment_id", True),
}
_KINDS = {
    "trace": "attribute", "attributes": "attribute", "attribute": "attribute", "attr": "attribute",
    "tags": "tag", "tag": "tag",
    "metadata": "metadata", "request_metadata": "metadata",
    "span": "span", "spans": "span",
}
# span.<key> -> column of the spans table: traces with at least one such span match.
SPAN_KEYS = {"name": "name", "type": "span_type", "span_type": "span_type",
             "status": "status_code"}
_TABLES = {"tag": "trace_tags", "metadata": "trace_metadata"}
_NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
_STRING_OPS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
_NULL_OPS = {"IS NULL", "IS NOT NULL"}
# MLflow 2 status names are accepted too.
_STATUS_ALIASES = {"OK": "OK", "ERROR": "ERROR", "IN_PROGRESS": "IN_PROGRESS",
                   "STATE_UNSPECIFIED": "STATE_UNSPECIFIED", "TRACE_STATUS_UNSPECIFIED": "STATE_UNSPECIFIED"}
HINT = ("Write clauses like: trace.status = 'OK' AND trace.name = 'chat' AND "
        "trace.execution_time_ms > 100 AND tags.env = 'prod' AND metadata.`mlflow.sourceRun` = '...'")


@dataclass(frozen=True)
class TraceOrder:
    column: str
    ascending: bool


class _TraceParser(_Parser):
    """The core parser with the trace's key types and attributes."""

    def identifier(self):  # type: ignore[override]
        tok = self.take("a key such as trace.status")
        if tok.kind in ("bq", "dq"):
            return self._attribute(_unquote(tok), tok)
        if tok.kind != "word":
            raise self.error(tok, f"expected a key such as trace.status, found {tok.text!r}")
        head, dot, rest = tok.text.partition(".")
        if not dot:
            return self._attribute(head, tok)
        kind = _KINDS.get(head.lower())
        if kind is None:
            raise self.error(tok, f"unknown key type {head!r}; use trace., tags. or metadata.")
        if not rest:
            quoted = self.take("a quoted key after the dot")
            if quoted.kind not in ("bq", "dq"):
                raise self.error(quoted, "expected a `quoted` key after the dot")
            rest = _unquote(quoted)
        if kind == "attribute":
            return self._attribute(rest, tok)
        if kind == "span" and rest not in SPAN_KEYS:
            raise self.error(tok, f"unknown span key {rest!r}; known: "
                                  + ", ".join(sorted(SPAN_KEYS)))
        return kind, rest, tok

    def _attribute(self, name, tok):  # type: ignore[override]
        if name not in ATTRIBUTES:
            raise self.error(tok, f"unknown trace attribute {name!r}; known: "
                                  + ", ".join(sorted(ATTRIBUTES)))
        return "attribute", name, tok

    def clause(self) -> Clause:
        kind, key, _ = self.identifier()
        op, op_tok = self.operator()
        value_tok = self.peek() or op_tok
        value = self.value(op)
        numeric = kind == "attribute" and ATTRIBUTES[key][1]
        allowed = (_NUMERIC_OPS if numeric else _STRING_OPS) | (
            _NULL_OPS if kind in ("tag", "metadata") else set())
        if op not in allowed:
            raise self.error(op_tok, f"operator {op} cannot be used with {key!r}; use one of "
                                     + ", ".join(sorted(allowed)))
        for v in value if isinstance(value, tuple) else (() if value is None else (value,)):
            if numeric and not isinstance(v, float):
                raise self.error(value_tok, f"{key!r} compares with a number, not {v!r}")
            if not numeric and not isinstance(v, str):
                raise self.error(value_tok, f"{key!r} compares with a quoted string, e.g. '{v:g}'")
        return Clause(kind, key, op, value)


def parse_trace_filter(source: str | None) -> list[Clause]:
    """Parse a trace filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token, with an example.
    """
    if source is None or not str(source).strip():
        return []
    try:
        return _TraceParser(source).parse()
    except Exception as exc:
        from ..errors import FilterSyntaxError

        if isinstance(exc, FilterSyntaxError):
            message = str(exc).rsplit("\n", 1)[0]
            raise FilterSyntaxError(message + "\n" + HINT) from None
        raise


def parse_trace_order(order_by: list[str] | str | None) -> list[TraceOrder]:
    """Parse order_by terms such as ``"timestamp_ms DESC"`` or ``"trace.execution_time_ms"``."""
    if not order_by:
        return []
    terms = []
    for term in [order_by] if isinstance(order_by, str) else order_by:
        p = _TraceParser(str(term), "order_by term")
        if not p.tokens:
            raise _fail(str(term), 0, "empty order_by term", "order_by term")
        kind, key, tok = p.identifier()
        if kind != "attribute":
            raise p.error(tok, "traces can be ordered by trace attributes only, "
                               "like 'timestamp_ms DESC' or 'execution_time_ms'")
        ascending = True
        if (nxt := p.peek()) is not None:
            if nxt.text.upper() not in ("ASC", "DESC"):
                raise p.error(nxt, f"expected ASC or DESC, found {nxt.text!r}")
            ascending = nxt.text.upper() == "ASC"
        terms.append(TraceOrder(ATTRIBUTES[key][0], ascending))
    return terms


def compile_trace_clause(clause: Clause, params: list) -> str:
    """A SQL condition on ``traces t`` for one clause, appending its parameters."""
    if clause.kind == "attribute":
        column, numeric = ATTRIBUTES[clause.key]
        value = clause.value
        if column == "t.state":
            value = (tuple(_STATUS_ALIASES.get(v.upper(), v) for v in value)
                     if isinstance(value, tuple) else _STATUS_ALIASES.get(value.upper(), value))
        elif numeric and column != "t.cost":
            value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)
        return compare_sql(column, clause.op, value, params)
    if clause.kind == "span":
        cond = compare_sql(SPAN_KEYS[clause.key], clause.op, clause.value, params)
        return f"t.trace_id IN (SELECT trace_id FROM spans WHERE {cond})"
    table = _TABLES[clause.kind]
    params.append(clause.key)
    if clause.op in _NULL_OPS:
        negate = "NOT " if clause.op == "IS NULL" else ""
        return f"t.trace_id {negate}IN (SELECT trace_id FROM {table} WHERE key = ?)"
    cond = compare_sql("value", clause.op, clause.value, params)
    return f"t.trace_id IN (SELECT trace_id FROM {table} WHERE key = ? AND {cond})"


def compile_trace_order(order: list[TraceOrder]) -> str:
    """ORDER BY text; the newest first when nothing else decides."""
    terms = [f"({o.column} IS NULL), {o.column} {'ASC' if o.ascending else 'DESC'}" for o in order]
    terms.append("t.request_time DESC, t.rowid DESC")
    return ", ".join(terms)


__all__ = ["ATTRIBUTES", "OrderBy", "compile_trace_clause", "compile_trace_order",
           "parse_trace_filter", "parse_trace_order"]
