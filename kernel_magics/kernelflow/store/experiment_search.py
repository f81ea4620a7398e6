"""Search filters and order_by for experiments: the runs grammar with experiment columns.

MLflow's ``search_experiments`` grammar, parsed by :mod:`kernelflow.search`'s parser::

    name = 'iris'    attribute.name LIKE 'iris%'    name ILIKE '%IRIS%'    name != 'x'
    creation_time > 1700000000000    last_update_time <= 1700000000000
    experiment_id = '3'    experiment_id IN ('1', '2')
    tags.team = 'ml'    tags.`my key` LIKE 'a%'    tags.team IS NULL

order_by takes ``name``, ``experiment_id``, ``creation_time`` and ``last_update_time``
with ASC/DESC. MLflow's default order is ``creation_time DESC, experiment_id ASC``;
with an explicit order, ``experiment_id DESC`` breaks ties (MLflow's SQL store does both).

Every user value becomes a ``?`` parameter; column names come from the whitelist.
"""

from __future__ import annotations

from ..errors import FilterSyntaxError
from ..search import Clause, OrderBy, _fail, _Parser
from .search_sql import compare_sql

ATTRIBUTES = {"name": "name", "experiment_id": "experiment_id",
              "creation_time": "creation_time", "last_update_time": "last_update_time"}
_NUMERIC = {"creation_time", "last_update_time"}
_STRING_OPS = {"=", "!=", "LIKE", "ILIKE"}
_NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
_TAG_OPS = _STRING_OPS | {"IS NULL", "IS NOT NULL"}
_ID_OPS = {"=", "!=", "IN", "NOT IN"}
DEFAULT_ORDER = [OrderBy("attribute", "creation_time", False),
                 OrderBy("attribute", "experiment_id", True)]
_HINT = ("Write clauses like: name LIKE 'iris%' AND tags.team = 'ml' AND "
         "creation_time > 1700000000000; order by name, experiment_id, creation_time or "
         "last_update_time.")


class _ExperimentParser(_Parser):
    """The runs filter parser, restricted to experiment attributes and tags."""

    def identifier(self) -> tuple[str, str, object]:
        tok = self.peek()
        kind, key, tok = super().identifier()
        if kind not in ("attribute", "tag"):
            raise self._bad(tok, f"experiments have no {kind}s; filter on attributes "
                                 f"({', '.join(sorted(ATTRIBUTES))}) or tags.<key>")
        return kind, key, tok

    def _attribute(self, name: str, tok) -> tuple[str, str, object]:
        if name not in ATTRIBUTES:
            raise self._bad(tok, f"Invalid attribute key '{name}' specified; valid keys are "
                                 f"{', '.join(sorted(ATTRIBUTES))}")
        return "attribute", name, tok

    def clause(self) -> Clause:
        kind, key, _ = self.identifier()
        op, op_tok = self.operator()
        value_tok = self.peek() or op_tok
        value = self.value(op)
        allowed = _TAG_OPS if kind == "tag" else (
            _NUMERIC_OPS if key in _NUMERIC else _ID_OPS if key == "experiment_id" else _STRING_OPS)
        if op not in allowed:
            raise self._bad(op_tok, f"Invalid comparator '{op}' for {kind} {key!r}; use one of "
                                    + ", ".join(sorted(allowed)))
        for v in value if isinstance(value, tuple) else () if value is None else (value,):
            numeric = kind == "attribute" and key in _NUMERIC
            if numeric != isinstance(v, float):
                expected = "a number" if numeric else "a quoted string"
                raise self._bad(value_tok, f"{kind} {key!r} compares with {expected}, not {v!r}")
        return Clause(kind, key, op, value)

    def _bad(self, tok, what: str) -> FilterSyntaxError:
        err = _fail(self.source, tok.pos, what, self.kind)
        head = str(err).rsplit("\n", 1)[0]
        return FilterSyntaxError(f"{head}\n{_HINT}".replace("search filter", "experiment filter", 1))


def parse_experiment_filter(filter_string: str | None) -> list[Clause]:
    """Parse an experiment search filter (MLflow's grammar) into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    if filter_string is None or not str(filter_string).strip():
        return []
    if not isinstance(filter_string, str):
        raise FilterSyntaxError(f"A search filter is a string, got {type(filter_string).__name__}.")
    return _ExperimentParser(filter_string).parse()


def parse_experiment_order_by(order_by: list[str] | str | None) -> list[OrderBy]:
    """Parse order_by terms (``"name"``, ``"creation_time DESC"``); MLflow's default if empty.

    Raises:
        FilterSyntaxError: for an unknown column, a tag, or a word other than ASC/DESC.
    """
    if not order_by:
        return list(DEFAULT_ORDER)
    terms = []
    for term in [order_by] if isinstance(order_by, str) else order_by:
        if not isinstance(term, str) or not term.strip():
            raise FilterSyntaxError(
                f"Invalid order_by term {term!r}: use 'name', 'creation_time DESC', ...")
        p = _ExperimentParser(term, "order_by term")
        kind, key, tok = p.identifier()
        if kind != "attribute":
            raise p._bad(tok, "Invalid order_by entity: tags cannot order experiments")
        ascending = True
        if (word := p.peek()) is not None:
            if word.text.upper() not in ("ASC", "DESC"):
                raise p._bad(word, f"expected ASC or DESC, found {word.text!r}")
            ascending = word.text.upper() == "ASC"
            p.i += 1
            if (extra := p.peek()) is not None:
                raise p._bad(extra, f"unexpected {extra.text!r} after {word.text}")
        terms.append(OrderBy("attribute", key, ascending))
    if not any(t.key == "experiment_id" for t in terms):
        terms.append(OrderBy("attribute", "experiment_id", False))
    return terms


def compile_experiment_where(clauses: list[Clause], lifecycle: str | None) -> tuple[str, list]:
    """WHERE text and parameters over the ``experiments`` table ``e``."""
    parts, params = ["1"], []
    if lifecycle:
        parts.append("e.lifecycle_stage = ?")
        params.append(lifecycle)
    for c in clauses:
        if c.kind == "tag":
            params.append(c.key)
            if c.op in ("IS NULL", "IS NOT NULL"):
                negate = "NOT " if c.op == "IS NULL" else ""
                parts.append(f"e.experiment_id {negate}IN "
                             "(SELECT experiment_id FROM experiment_tags WHERE key = ?)")
                continue
            cond = compare_sql("value", c.op, c.value, params)
            parts.append("e.experiment_id IN "
                         f"(SELECT experiment_id FROM experiment_tags WHERE key = ? AND {cond})")
        elif c.key == "experiment_id":
            parts.append(compare_sql("CAST(e.experiment_id AS TEXT)", c.op, c.value, params))
        else:
            value = int(c.value) if c.key in _NUMERIC else c.value
            parts.append(compare_sql("e." + ATTRIBUTES[c.key], c.op, value, params))
    return " AND ".join(parts), params


def compile_experiment_order(order: list[OrderBy]) -> str:
    """ORDER BY text (column names from the whitelist only)."""
    return ", ".join(f"e.{ATTRIBUTES[t.key]} {'ASC' if t.ascending else 'DESC'}" for t in order)
