"""MLflow's search filter grammar: one parser for every searchable entity.

The parser only builds clauses; ``store.search_sql`` compiles them to
parameterised SQL, so user values never reach SQL text. Runs, experiments,
registered models, model versions, logged models and traces share it: each is a
:class:`Grammar` that names its attributes (and their SQL columns), the key types
it has (``metrics.``, ``params.``, ``tags.``, ...) with their operators, and how
its errors read.

Grammar::

    filter  := clause ( AND clause )*
    clause  := ident op value
    ident   := [type "."] key          type: metrics | params | tags | attributes | ...
    key     := word | `quoted` | "quoted"
    value   := 'string' | "string" | number | ( value, ... )
    (also ``ident IS NULL`` / ``ident IS NOT NULL`` where the grammar allows it)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import FilterSyntaxError

NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
NUMERIC_OPS = frozenset({"=", "!=", ">", ">=", "<", "<="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
_NULL_OPS, _NUMERIC_OPS, _STRING_OPS = NULL_OPS, NUMERIC_OPS, STRING_OPS  # older names

# The words before the dot, for every grammar that has these key types (the first word of
# each type is the one errors suggest).
KEY_TYPES = {
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param", "parameter": "param", "parameters": "param",
    "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute",
}


@dataclass(frozen=True)
class Grammar:
    """What one searchable entity's filter accepts, and how its errors read.

    Attributes:
        name: what the filter is called in errors ("search filter", ...).
        attributes: accepted attribute names -> their SQL column.
        numeric: the columns compared with numbers (the others with strings).
        kinds: the key types besides attributes (``"metric"``, ``"tag"``, ...) -> operators.
        hint: the last line of every error: an example of a good filter.
        prefixes: words before the dot -> key type (``"attribute"`` for attributes).
        attribute_ops: per column, operators other than the defaults.
        unknown_attribute: the error for an unknown attribute (``{name}``, ``{known}``).
        bad_operator: the error for an operator a key does not take
            (``{op}``, ``{kind}``, ``{key}``, ``{allowed}``).
        numeric_strings: accept a quoted number for a numeric attribute (``'2'``).
        order_hint: the last line of order_by errors.
        kind_keys: for key types whose keys are fixed (a trace's ``span.name``), the keys.
    """

    name: str
    attributes: Mapping[str, str]
    numeric: frozenset[str]
    kinds: Mapping[str, frozenset[str]]
    hint: str
    prefixes: Mapping[str, str] = field(default_factory=lambda: dict(KEY_TYPES))
    attribute_ops: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unknown_attribute: str = "unknown attribute {name!r}; known attributes: {known}"
    bad_operator: str = "operator {op} cannot be used with {kind} {key!r}; use one of {allowed}"
    numeric_strings: bool = False
    order_hint: str = ("Write terms like: 'metrics.acc DESC', 'params.lr', "
                       "'attributes.start_time ASC'.")
    kind_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def ops_for(self, kind: str, key: str) -> frozenset[str]:
        """The operators a key of this kind takes."""
        if kind != "attribute":
            return self.kinds[kind]
        column = self.attributes[key]
        if column in self.attribute_ops:
            return self.attribute_ops[column]
        return NUMERIC_OPS if column in self.numeric else STRING_OPS | LIST_OPS

    def with_names(self, **changes: Any) -> Grammar:
        """A copy with some fields changed (an order_by grammar, say)."""
        from dataclasses import replace

        return replace(self, **changes)


# -- runs ---------------------------------------------------------------------------------------
ATTRIBUTES = {
    "run_id": "run_uuid", "run_uuid": "run_uuid", "run_name": "name", "status": "status",
    "user_id": "user_id", "start_time": "start_time", "end_time": "end_time",
    "artifact_uri": "artifact_uri", "lifecycle_stage": "lifecycle_stage",
    "experiment_id": "experiment_id", "created": "start_time",
}
RUNS = Grammar(
    name="search filter",
    attributes=ATTRIBUTES,
    numeric=frozenset({"start_time", "end_time", "experiment_id"}),
    kinds={
        "metric": NUMERIC_OPS | NULL_OPS,
        "param": STRING_OPS | LIST_OPS | NULL_OPS,
        "tag": STRING_OPS | LIST_OPS | NULL_OPS,
        # MLflow's dataset.name / dataset.digest / dataset.context (the run's dataset inputs)
        "dataset": STRING_OPS | LIST_OPS,
    },
    hint="Write clauses like: metrics.acc > 0.9 AND params.optimizer = 'adam' AND "
         "tags.team LIKE 'ml%' AND attributes.status = 'FINISHED'.",
    prefixes={**KEY_TYPES, "run": "attribute", "dataset": "dataset", "datasets": "dataset"},
)

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
    """One comparison: ``kind`` is attribute or one of the grammar's key types."""

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


def fail(source: str, pos: int, what: str, grammar: Grammar = RUNS,
         order: bool = False) -> FilterSyntaxError:
    """The error for ``source`` at ``pos``: what was wrong, a caret under it, an example."""
    label, hint = ("order_by term", grammar.order_hint) if order else (grammar.name, grammar.hint)
    pointer = source + "\n" + " " * pos + "^"
    return FilterSyntaxError(f"Invalid {label} at position {pos}: {what}\n{pointer}\n{hint}")


def _fail(source: str, pos: int, what: str, kind: str = "search filter") -> FilterSyntaxError:
    return fail(source, pos, what, RUNS, order=kind == "order_by term")


def tokenize(source: str, what: str = "search filter", grammar: Grammar = RUNS) -> list[Token]:
    """Split a filter string into tokens; a character that fits nothing is an error."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise fail(source, pos, f"unexpected character {source[pos]!r}", grammar,
                       what == "order_by term")
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
    """A recursive-descent parser over one grammar (``kind`` says filter or order_by term)."""

    def __init__(self, source: str, kind: str = "search filter", grammar: Grammar = RUNS) -> None:
        self.source = source
        self.kind = kind
        self.grammar = grammar
        self.tokens = tokenize(source, kind, grammar)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        tok = self.peek()
        if tok is None:
            needs = "" if self.kind == "order_by term" else \
                " (a clause needs a key, an operator and a value)"
            raise self._error_at(len(self.source), f"expected {expected}, found the end{needs}")
        self.i += 1
        return tok

    def _error_at(self, pos: int, what: str) -> FilterSyntaxError:
        return fail(self.source, pos, what, self.grammar, self.kind == "order_by term")

    def error(self, tok: Token, what: str) -> FilterSyntaxError:
        return self._error_at(tok.pos, what)

    def identifier(self) -> tuple[str, str, Token]:
        tok = self.take("a key")
        if tok.kind in ("bq", "dq"):
            # A bare quoted name is an attribute, as `attributes.run_name`.
            return self._attribute(_unquote(tok), tok)
        if tok.kind != "word":
            raise self.error(tok, f"expected a key, found {tok.text!r}")
        head, dot, rest = tok.text.partition(".")
        if not dot:
            return self._attribute(head, tok)
        kind = self.grammar.prefixes.get(head.lower())
        if kind is None:
            raise self.error(tok, f"unknown key type {head!r}; use {self._prefix_names()}")
        if kind != "attribute" and kind not in self.grammar.kinds:
            raise self.error(tok, f"{head!r} keys cannot be used here; use "
                                  f"{self._prefix_names()}")
        if not rest:
            quoted = self.take("a quoted key after the dot")
            if quoted.kind not in ("bq", "dq"):
                raise self.error(quoted, "expected a `quoted` key after the dot")
            rest = _unquote(quoted)
        if kind == "attribute":
            return self._attribute(rest, tok)
        fixed = self.grammar.kind_keys.get(kind)
        if fixed is not None and rest not in fixed:
            raise self.error(tok, f"unknown {kind} key {rest!r}; known: {', '.join(sorted(fixed))}")
        return kind, rest, tok

    def _prefix_names(self) -> str:
        seen: dict[str, str] = {}
        for word, kind in self.grammar.prefixes.items():
            if kind == "attribute" or kind in self.grammar.kinds:
                seen.setdefault(kind, word)
        names = [f"{seen[k]}." for k in sorted(seen, key=lambda k: k == "attribute")]
        return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]

    def _attribute(self, name: str, tok: Token) -> tuple[str, str, Token]:
        if name not in self.grammar.attributes:
            known = ", ".join(sorted(self.grammar.attributes))
            raise self.error(tok, self.grammar.unknown_attribute.format(name=name, known=known))
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
        if op in NULL_OPS:
            return None
        if op not in LIST_OPS:
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
        kind, key, _ = self.identifier()
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


def _number(v: Any) -> Any:
    try:
        return float(v)
    except ValueError:
        return v


def _check(p: _Parser, c: Clause, op_tok: Token, value_tok: Token) -> Clause:
    g = p.grammar
    allowed = g.ops_for(c.kind, c.key)
    numeric = c.kind == "metric" or (c.kind == "attribute" and g.attributes[c.key] in g.numeric)
    if c.op not in allowed:
        raise p.error(op_tok, g.bad_operator.format(
            op=c.op, kind=c.kind, key=c.key, allowed=", ".join(sorted(allowed))))
    if c.op in NULL_OPS:
        return c
    if numeric and g.numeric_strings and c.kind == "attribute":
        value = tuple(map(_number, c.value)) if isinstance(c.value, tuple) else _number(c.value)
        c = Clause(c.kind, c.key, c.op, value)
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    for v in values:
        if numeric and not isinstance(v, float):
            raise p.error(value_tok, f"{c.kind} {c.key!r} compares with a number, not {v!r}")
        if not numeric and not isinstance(v, str):
            raise p.error(value_tok, f"{c.kind} {c.key!r} compares with a quoted string, e.g. '{v:g}'")
    return c


def parse(filter_string: str | None, grammar: Grammar) -> list[Clause]:
    """Parse a filter of ``grammar`` into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token, with an example.
    """
    if filter_string is None:
        return []
    if not isinstance(filter_string, str):
        raise FilterSyntaxError(f"A {grammar.name} is a string, got "
                                f"{type(filter_string).__name__}.")
    if not filter_string.strip():
        return []
    return _Parser(filter_string, grammar.name, grammar).parse()


def parse_filter(filter_string: str | None) -> list[Clause]:
    """Parse an MLflow run search filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    return parse(filter_string, RUNS)


def parse_order(order_by: list[str] | str | None, grammar: Grammar,
                kinds: frozenset[str] | None = None) -> list[OrderBy]:
    """Parse order_by terms such as ``"metrics.acc DESC"`` over ``grammar``'s keys.

    Args:
        order_by: terms, each a key then optionally ASC or DESC.
        grammar: the entity's grammar (its attributes name what can be ordered by).
        kinds: the key types that can order (attributes always can); all by default.

    Raises:
        FilterSyntaxError: for an unknown key, a key type that cannot order, or a word other
            than ASC/DESC.
    """
    if not order_by:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    if not isinstance(order_by, (list, tuple)):
        raise FilterSyntaxError(f"order_by takes a list of strings like 'name DESC', got {order_by!r}.")
    terms = []
    for term in order_by:
        if not isinstance(term, str):
            raise FilterSyntaxError(f"order_by takes strings like 'metrics.acc DESC', got {term!r}.")
        p = _Parser(term, "order_by term", grammar)
        if not p.tokens:
            raise fail(term, 0, "empty order_by term", grammar, order=True)
        kind, key, tok = p.identifier()
        if kind != "attribute" and kinds is not None and kind not in kinds:
            raise p.error(tok, f"{kind} keys cannot order this search; order by an attribute "
                               f"({', '.join(sorted(grammar.attributes))})")
        ascending = True
        nxt = p.peek()
        if nxt is not None:
            word = nxt.text.upper()
            if word not in ("ASC", "DESC"):
                raise p.error(nxt, f"expected ASC or DESC, found {nxt.text!r}")
            ascending = word == "ASC"
            p.i += 1
            if (extra := p.peek()) is not None:
                raise p.error(extra, f"unexpected {extra.text!r} after {word}")
        terms.append(OrderBy(kind, key, ascending))
    return terms


def parse_order_by(order_by: list[str] | str | None) -> list[OrderBy]:
    """Parse run order_by terms such as ``"metrics.acc DESC"`` or ``"attributes.start_time"``."""
    return parse_order(order_by, RUNS)
