"""MLflow's search filter grammar: parse filter and order_by strings.

The parser only builds clauses; ``store.search_sql`` compiles them to
parameterised SQL, so user values never reach SQL text.

Grammar::

    filter  := clause ( AND clause )*
    clause  := ident op value
    ident   := [type "."] key          type: metrics | params | tags | attributes
    key     := word | `quoted` | "quoted"
    value   := 'string' | "string" | number | ( value, ... )
    (also ``ident IS NULL`` / ``ident IS NOT NULL`` for metrics, params and tags)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import FilterSyntaxError

_TYPES = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attribute", "attributes": "attribute", "attr": "attribute", "run": "attribute",
}
ATTRIBUTES = {
    "run_id": "run_uuid", "run_uuid": "run_uuid", "run_name": "name", "status": "status",
    "user_id": "user_id", "start_time": "start_time", "end_time": "end_time",
    "artifact_uri": "artifact_uri", "lifecycle_stage": "lifecycle_stage",
    "experiment_id": "experiment_id", "created": "start_time",
}
_NUMERIC_ATTRS = {"start_time", "end_time", "experiment_id"}
_NULL_OPS = {"IS NULL", "IS NOT NULL"}
_NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
_STRING_OPS = {"=", "!=", "LIKE", "ILIKE"}
_ALLOWED_OPS = {
    "metric": _NUMERIC_OPS | _NULL_OPS,
    "param": _STRING_OPS | {"IN", "NOT IN"} | _NULL_OPS,
    "tag": _STRING_OPS | {"IN", "NOT IN"} | _NULL_OPS,
}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))(?![\w.])
  | (?P<sq>'(?:[^']|'')*')
  | (?P<dq>"(?:[^"]|"")*")
  | (?P<bq>`[^`]*`)
  | (?P<op>!=|<>|>=|<=|==|=|>|<)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<word>[A-Za-z_][\w.\-/:]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Clause:
    """One comparison: ``kind`` is metric, param, tag or attribute."""

    kind: str
    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class OrderBy:
    """One order_by term."""

    kind: str
    key: str
    ascending: bool


_HINTS = {
    "search filter": "Write clauses like: metrics.acc > 0.9 AND params.optimizer = 'adam' AND "
                     "tags.team LIKE 'ml%' AND attributes.status = 'FINISHED'.",
    "order_by term": "Write terms like: 'metrics.acc DESC', 'params.lr', "
                     "'attributes.start_time ASC'.",
}


def _fail(source: str, pos: int, what: str, kind: str = "search filter") -> FilterSyntaxError:
    pointer = source + "\n" + " " * pos + "^"
    return FilterSyntaxError(
        f"Invalid {kind} at position {pos}: {what}\n{pointer}\n{_HINTS[kind]}"
    )


def tokenize(source: str, what: str = "search filter") -> list[Token]:
    """Split a filter string into tokens; a character that fits nothing is an error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise _fail(source, pos, f"unexpected character {source[pos]!r}", what)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


def _unquote(tok: Token) -> str:
    body = tok.text[1:-1]
    if tok.kind == "sq":
        return body.replace("''", "'")
    if tok.kind == "dq":
        return body.replace('""', '"')
    return body


class _Parser:
    def __init__(self, source: str, kind: str = "search filter") -> None:
        self.source = source
        self.kind = kind
        self.tokens = tokenize(source, kind)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise _fail(self.source, len(self.source), f"expected {expected}, found the end",
                        self.kind)
        self.i += 1
        return tok

    def error(self, tok: Token, what: str) -> FilterSyntaxError:
        return _fail(self.source, tok.pos, what, self.kind)

    def identifier(self) -> tuple[str, str, Token]:
        tok = self.take("a key such as metrics.acc")
        if tok.kind in ("bq", "dq"):
            # A bare quoted name is an attribute, as `attributes.run_name`.
            return self._attribute(_unquote(tok), tok)
        if tok.kind != "word":
            raise self.error(tok, f"expected a key such as metrics.acc, found {tok.text!r}")
        head, dot, rest = tok.text.partition(".")
        if not dot:
            return self._attribute(head, tok)
        kind = _TYPES.get(head.lower())
        if kind is None:
            raise self.error(
                tok,
                f"unknown key type {head!r}; use metrics., params., tags. or attributes.",
            )
        if not rest:
            quoted = self.take("a quoted key after the dot")
            if quoted.kind not in ("bq", "dq"):
                raise self.error(quoted, "expected a `quoted` key after the dot")
            rest = _unquote(quoted)
        if kind == "attribute":
            return self._attribute(rest, tok)
        return kind, rest, tok

    def _attribute(self, name: str, tok: Token) -> tuple[str, str, Token]:
        if name not in ATTRIBUTES:
            raise self.error(
                tok,
                f"unknown attribute {name!r}; known attributes: {', '.join(sorted(ATTRIBUTES))}",
            )
        return "attribute", name, tok

    def operator(self) -> tuple[str, Token]:
        tok = self.take("a comparison operator")
        if tok.kind == "op":
            return {"==": "=", "<>": "!="}.get(tok.text, tok.text), tok
        word = tok.text.upper() if tok.kind == "word" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return word, tok
        if word == "IS":
            nxt = self.take("NULL or NOT NULL after IS")
            negate = nxt.text.upper() == "NOT"
            if negate:
                nxt = self.take("NULL after IS NOT")
            if nxt.text.upper() != "NULL":
                raise self.error(nxt, "expected NULL after IS (or IS NOT)")
            return ("IS NOT NULL" if negate else "IS NULL"), tok
        if word == "NOT":
            nxt = self.take("IN after NOT")
            if nxt.text.upper() != "IN":
                raise self.error(nxt, "expected IN after NOT")
            return "NOT IN", tok
        raise self.error(tok, f"expected a comparison operator (=, !=, >, LIKE, IN, ...), found {tok.text!r}")

    def scalar(self) -> Any:
        tok = self.take("a value")
        if tok.kind in ("sq", "dq"):
            return _unquote(tok)
        if tok.kind == "number":
            return float(tok.text)
        raise self.error(tok, f"expected a quoted string or a number, found {tok.text!r}")

    def value(self, op: str) -> Any:
        if op in _NULL_OPS:
            return None
        if op not in ("IN", "NOT IN"):
            return self.scalar()
        tok = self.take("a parenthesised list")
        if tok.kind != "lparen":
            raise self.error(tok, "expected a list in parentheses after IN, like ('a', 'b')")
        items = [self.scalar()]
        while True:
            tok = self.take("',' or ')'")
            if tok.kind == "rparen":
                return tuple(items)
            if tok.kind != "comma":
                raise self.error(tok, "expected ',' or ')' in the IN list")
            items.append(self.scalar())

    def clause(self) -> Clause:
        kind, key, key_tok = self.identifier()
        op, op_tok = self.operator()
        value_tok = self.peek()
        value = self.value(op)
        return _check(self, Clause(kind, key, op, value), op_tok, value_tok or op_tok)

    def parse(self) -> list[Clause]:
        if not self.tokens:
            return []
        clauses = [self.clause()]
        while (tok := self.peek()) is not None:
            if tok.kind != "word" or tok.text.upper() != "AND":
                what = "OR is not supported; " if tok.text.upper() == "OR" else ""
                raise self.error(tok, f"{what}expected AND between clauses, found {tok.text!r}")
            self.i += 1
            clauses.append(self.clause())
        return clauses


def _check(p: _Parser, c: Clause, op_tok: Token, value_tok: Token) -> Clause:
    if c.kind == "attribute":
        column = ATTRIBUTES[c.key]
        numeric = column in _NUMERIC_ATTRS
        allowed = _NUMERIC_OPS if numeric else _STRING_OPS | {"IN", "NOT IN"}
    else:
        numeric = c.kind == "metric"
        allowed = _ALLOWED_OPS[c.kind]
    if c.op not in allowed:
        raise p.error(
            op_tok, f"operator {c.op} cannot be used with {c.kind} {c.key!r}; use one of "
            + ", ".join(sorted(allowed))
        )
    if c.op in _NULL_OPS:
        return c
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    for v in values:
        if numeric and not isinstance(v, float):
            raise p.error(value_tok, f"{c.kind} {c.key!r} compares with a number, not {v!r}")
        if not numeric and not isinstance(v, str):
            raise p.error(value_tok, f"{c.kind} {c.key!r} compares with a quoted string, e.g. '{v:g}'")
    return c


def parse_filter(filter_string: str | None) -> list[Clause]:
    """Parse an MLflow search filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    if filter_string is None:
        return []
    if not isinstance(filter_string, str):
        raise FilterSyntaxError(f"A search filter is a string, got {type(filter_string).__name__}.")
    if not filter_string.strip():
        return []
    return _Parser(filter_string).parse()


def parse_order_by(order_by: list[str] | str | None) -> list[OrderBy]:
    """Parse order_by terms such as ``"metrics.acc DESC"`` or ``"attributes.start_time"``."""
    if not order_by:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    terms = []
    for term in order_by:
        if not isinstance(term, str):
            raise FilterSyntaxError(f"order_by takes strings like 'metrics.acc DESC', got {term!r}.")
        p = _Parser(term, "order_by term")
        if not p.tokens:
            raise _fail(term, 0, "empty order_by term", "order_by term")
        kind, key, _ = p.identifier()
        ascending = True
        tok = p.peek()
        if tok is not None:
            word = tok.text.upper()
            if word not in ("ASC", "DESC"):
                raise p.error(tok, f"expected ASC or DESC, found {tok.text!r}")
            ascending = word == "ASC"
            p.i += 1
            if (extra := p.peek()) is not None:
                raise p.error(extra, f"unexpected {extra.text!r} after {word}")
        terms.append(OrderBy(kind, key, ascending))
    return terms
