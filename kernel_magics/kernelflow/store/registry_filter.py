"""Search filters and order_by for registered models and model versions (MLflow's grammar).

Registered models::   name = 'iris'   name LIKE 'iris%'   tags.team = 'ml'
Model versions::      name = 'iris' AND version_number > 2   run_id IN ('a', 'b')
                      source_path = '...'   tags.validated = 'yes'   current_stage = 'Production'

Values become ``?`` parameters; only whitelisted column names reach the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import FilterSyntaxError
from ..search import Token, tokenize
from .search_sql import compare_sql

MODEL_ATTRS = {"name": "name"}
VERSION_ATTRS = {
    "name": "name",
    "run_id": "run_id",
    "source_path": "source",
    "source": "source",
    "version_number": "version",
    "version": "version",
    "user_id": "user_id",
    "current_stage": "current_stage",
    "status": "status",
}
MODEL_ORDER = {
    "name": "name",
    "creation_timestamp": "creation_time",
    "last_updated_timestamp": "last_updated_time",
}
VERSION_ORDER = {
    **MODEL_ORDER,
    "version_number": "version",
    "version": "version",
}
_NUMERIC = {"version"}
_OPS = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"}


@dataclass(frozen=True)
class Condition:
    """One parsed comparison: a column (or a tag key) against a value."""

    column: str | None
    tag: str | None
    op: str
    value: Any


def _fail(source: str, pos: int, what: str, example: str) -> FilterSyntaxError:
    return FilterSyntaxError(
        f"Invalid registry search filter at position {pos}: {what}\n{source}\n"
        f"{' ' * pos}^\nWrite clauses like: {example}"
    )


class _Parser:
    def __init__(self, source: str, attrs: dict[str, str], example: str) -> None:
        self.source, self.attrs, self.example = source, attrs, example
        self.tokens = tokenize(source)
        self.i = 0

    def fail(self, tok: Token | None, what: str) -> FilterSyntaxError:
        return _fail(self.source, tok.pos if tok else len(self.source), what, self.example)

    def take(self) -> Token:
        if self.i >= len(self.tokens):
            raise self.fail(None, "the filter ends too early")
        self.i += 1
        return self.tokens[self.i - 1]

    def key(self) -> tuple[str | None, str | None]:
        tok = self.take()
        text = tok.text[1:-1] if tok.kind in ("bq", "dq") else tok.text
        head, dot, rest = text.partition(".")
        if dot and head.lower() in ("tag", "tags"):
            if not rest:
                quoted = self.take()
                rest = quoted.text[1:-1]
            return None, rest
        if dot and head.lower() in ("attribute", "attributes"):
            text = rest
        if text not in self.attrs:
            known = ", ".join(sorted(self.attrs))
            raise self.fail(tok, f"unknown key {text!r}; use {known} or tags.<key>")
        return self.attrs[text], None

    def op(self) -> str:
        tok = self.take()
        text = {"==": "=", "<>": "!="}.get(tok.text, tok.text.upper())
        if text == "NOT":
            if self.take().text.upper() != "IN":
                raise self.fail(tok, "expected IN after NOT")
            text = "NOT IN"
        if text not in _OPS:
            raise self.fail(tok, f"expected an operator (=, !=, LIKE, ILIKE, IN, <, >), found {tok.text!r}")
        return text

    def scalar(self, numeric: bool) -> Any:
        tok = self.take()
        if tok.kind in ("sq", "dq"):
            value: Any = tok.text[1:-1].replace(tok.text[0] * 2, tok.text[0])
        elif tok.kind == "number":
            value = tok.text
        else:
            raise self.fail(tok, f"expected a quoted value, found {tok.text!r}")
        if numeric:
            try:
                return int(float(value))
            except ValueError:
                raise self.fail(tok, f"expected a version number, found {value!r}") from None
        return str(value)

    def value(self, op: str, numeric: bool) -> Any:
        if op not in ("IN", "NOT IN"):
            return self.scalar(numeric)
        if self.take().kind != "lparen":
            raise self.fail(self.tokens[self.i - 1], "expected ( after IN")
        items = [self.scalar(numeric)]
        while (tok := self.take()).kind == "comma":
            items.append(self.scalar(numeric))
        if tok.kind != "rparen":
            raise self.fail(tok, "expected , or ) in the IN list")
        return tuple(items)

    def parse(self) -> list[Condition]:
        out = []
        while True:
            column, tag = self.key()
            op = self.op()
            numeric = column in _NUMERIC
            if op in ("LIKE", "ILIKE") and numeric:
                raise self.fail(self.tokens[self.i - 1], f"{op} does not apply to numbers")
            out.append(Condition(column, tag, op, self.value(op, numeric)))
            if self.i >= len(self.tokens):
                return out
            tok = self.take()
            if tok.text.upper() != "AND":
                raise self.fail(tok, f"expected AND between clauses, found {tok.text!r}")


def parse_registry_filter(filter_string: str | None, versions: bool) -> list[Condition]:
    """Parse a registered-model (``versions=False``) or model-version filter.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    if filter_string is not None and not isinstance(filter_string, str):
        raise FilterSyntaxError(
            f"filter_string must be a string such as \"name = 'iris'\" (or None), "
            f"not {filter_string!r}."
        )
    if not filter_string or not filter_string.strip():
        return []
    if versions:
        return _Parser(filter_string, VERSION_ATTRS, "name = 'iris' AND version_number > 1").parse()
    return _Parser(filter_string, MODEL_ATTRS, "name LIKE 'iris%' AND tags.team = 'ml'").parse()


def compile_conditions(conditions: list[Condition], alias: str, tag_table: str, keys: str) -> tuple[str, list]:
    """Return ``(where_sql, params)`` over table alias ``alias``.

    ``tag_table`` and ``keys`` (e.g. ``"name, version"``) say how tags join.
    """
    parts: list[str] = ["1 = 1"]
    params: list[Any] = []
    for c in conditions:
        if c.tag is None:
            parts.append(compare_sql(f"{alias}.{c.column}", c.op, c.value, params))
            continue
        params.append(c.tag)
        cond = compare_sql("t.value", c.op, c.value, params)
        join = " AND ".join(f"t.{k} = {alias}.{k}" for k in keys.split(", "))
        parts.append(f"EXISTS (SELECT 1 FROM {tag_table} t WHERE {join} AND t.key = ? AND {cond})")
    return " AND ".join(parts), params


def compile_order(order_by: list[str] | None, versions: bool, alias: str) -> str:
    """Return an ORDER BY clause body; unknown keys raise FilterSyntaxError."""
    allowed = VERSION_ORDER if versions else MODEL_ORDER
    if order_by is not None and (
        not isinstance(order_by, (list, tuple)) or not all(isinstance(t, str) for t in order_by)
    ):
        raise FilterSyntaxError(
            f"order_by must be a list of strings such as ['name ASC', 'version DESC'], "
            f"not {order_by!r}."
        )
    terms = []
    for term in order_by or []:
        words = term.split()
        key = words[0].removeprefix("attributes.") if words else ""
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if key not in allowed or direction not in ("ASC", "DESC") or len(words) > 2:
            raise FilterSyntaxError(
                f"Invalid order_by term {term!r}: use one of {sorted(allowed)} "
                "followed by ASC or DESC."
            )
        terms.append(f"{alias}.{allowed[key]} {direction}")
    default = [f"{alias}.name ASC", f"{alias}.version DESC"] if versions else [f"{alias}.name ASC"]
    return ", ".join(terms + default)
