"""Search filters and ordering for logged models, compiled to parameterised SQL.

MLflow's logged-model filter grammar is the runs grammar with other attributes
(``name``, ``model_id``, ``source_run_id``, ``status``, ``model_type``,
``creation_timestamp``, ``last_updated_timestamp``) next to ``metrics.``,
``params.`` and ``tags.``. Clauses are joined by AND. User values only ever
become ``?`` parameters; column names come from the whitelists below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import FilterSyntaxError, InvalidParameterError
from ..search import tokenize
from .search_sql import like_to_glob

ATTRIBUTES = {
    "name": "name", "model_id": "model_id", "source_run_id": "source_run_id",
    "status": "status", "model_type": "model_type", "experiment_id": "experiment_id",
    "creation_timestamp": "creation_timestamp", "creation_time": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
_NUMERIC_ATTRS = {"creation_timestamp", "last_updated_timestamp", "experiment_id"}
_KINDS = {"metrics": "metric", "metric": "metric", "params": "param", "param": "param",
          "tags": "tag", "tag": "tag", "attributes": "attribute", "attribute": "attribute"}
_OPS = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN"}
_NUMERIC_OPS = {"=", "!=", ">", ">=", "<", "<="}
# MLflow's proto status names are accepted in filters too.
_STATUS_ALIASES = {"LOGGED_MODEL_PENDING": "PENDING", "LOGGED_MODEL_READY": "READY",
                   "LOGGED_MODEL_UPLOAD_FAILED": "FAILED"}


@dataclass(frozen=True)
class ModelClause:
    """One ``kind.key op value`` condition of a logged-model filter."""

    kind: str
    key: str
    op: str
    value: Any


def _fail(source: str, what: str) -> FilterSyntaxError:
    return FilterSyntaxError(
        f"Invalid logged-model filter {source!r}: {what}. Example: "
        "\"name = 'model' AND tags.team = 'ml' AND metrics.acc > 0.9\"."
    )


def _identifier(source: str, text: str) -> tuple[str, str]:
    head, dot, rest = text.partition(".")
    kind = _KINDS.get(head.lower()) if dot else "attribute"
    key = rest.strip("`\"") if dot else text.strip("`\"")
    if kind is None:
        raise _fail(source, f"unknown key type {head!r}; use metrics., params., tags. or a "
                            f"model attribute ({', '.join(sorted(ATTRIBUTES))})")
    if kind == "attribute" and key not in ATTRIBUTES:
        raise _fail(source, f"unknown attribute {key!r}; known: {', '.join(sorted(ATTRIBUTES))}")
    return kind, key


def _scalar(source: str, tok) -> Any:
    if tok.kind in ("sq", "dq"):
        quote = tok.text[0]
        return tok.text[1:-1].replace(quote * 2, quote)
    if tok.kind == "number":
        return float(tok.text)
    raise _fail(source, f"expected a quoted string or a number, found {tok.text!r}")


def _value(source: str, tokens: list, i: int, op: str) -> tuple[Any, int]:
    if op not in ("IN", "NOT IN"):
        return _scalar(source, tokens[i]), i + 1
    if tokens[i].kind != "lparen":
        raise _fail(source, "expected a list in parentheses after IN, like ('a', 'b')")
    items, i = [], i + 1
    while i < len(tokens) and tokens[i].kind != "rparen":
        if tokens[i].kind != "comma":
            items.append(_scalar(source, tokens[i]))
        i += 1
    if i >= len(tokens) or not items:
        raise _fail(source, "an IN list needs values and a closing ')'")
    return tuple(items), i + 1


def _operator(source: str, tokens: list, i: int) -> tuple[str, int]:
    text = tokens[i].text.upper()
    if text == "NOT" and i + 1 < len(tokens) and tokens[i + 1].text.upper() == "IN":
        return "NOT IN", i + 2
    op = {"==": "=", "<>": "!="}.get(text, text)
    if op not in _OPS:
        raise _fail(source, f"expected a comparison operator, found {tokens[i].text!r}")
    return op, i + 1


def parse_model_filter(source: str | None) -> list[ModelClause]:
    """Parse a logged-model filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: for a clause that is not ``key op value``.
    """
    source = source or ""
    tokens = tokenize(source)
    clauses: list[ModelClause] = []
    i = 0
    while i < len(tokens):
        if clauses:
            if tokens[i].text.upper() != "AND":
                raise _fail(source, f"expected AND between clauses, found {tokens[i].text!r}")
            i += 1
        if i + 1 >= len(tokens):
            raise _fail(source, "a clause needs a key, an operator and a value")
        kind, key = _identifier(source, tokens[i].text)
        op, i = _operator(source, tokens, i + 1)
        if i >= len(tokens):
            raise _fail(source, "a clause needs a value after its operator")
        value, i = _value(source, tokens, i, op)
        clauses.append(_checked(source, ModelClause(kind, key, op, value)))
    return clauses


def _checked(source: str, c: ModelClause) -> ModelClause:
    numeric = c.kind == "metric" or (c.kind == "attribute" and ATTRIBUTES[c.key] in _NUMERIC_ATTRS)
    if numeric and c.op not in _NUMERIC_OPS:
        raise _fail(source, f"{c.key!r} is compared with =, !=, <, <=, > or >=, not {c.op}")
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    if numeric and not all(isinstance(v, float) for v in values):
        raise _fail(source, f"{c.key!r} compares with a number")
    if not numeric and not all(isinstance(v, str) for v in values):
        raise _fail(source, f"{c.key!r} compares with a quoted string")
    if c.kind == "attribute" and c.key == "status":
        values = tuple(_STATUS_ALIASES.get(v, v) for v in values)
        return ModelClause(c.kind, c.key, c.op, values if isinstance(c.value, tuple) else values[0])
    return c


def _compare(column: str, op: str, value, params: list) -> str:
    if op in ("IN", "NOT IN"):
        params.extend(value)
        return f"{column} {op} ({', '.join('?' for _ in value)})"
    if op in ("LIKE", "ILIKE"):
        params.append(like_to_glob(value.lower() if op == "ILIKE" else value))
        return f"{'lower(' + column + ')' if op == 'ILIKE' else column} GLOB ?"
    params.append(value)
    return f"{column} {op} ?"


def dataset_condition(datasets: list[dict] | None, alias: str, params: list) -> str:
    """``(a.dataset_name = ? [AND a.dataset_digest = ?]) OR ...`` for MLflow's ``datasets``
    (``[{"dataset_name": ..., "dataset_digest": ...}]``); ``"1"`` when there are none.

    Raises:
        InvalidParameterError: for an entry without a ``dataset_name`` (as MLflow).
    """
    if not datasets:
        return "1"
    terms = []
    for d in datasets:
        if not d.get("dataset_name"):
            raise InvalidParameterError(
                "`dataset_name` in the `datasets` clause must be specified: pass "
                "[{'dataset_name': 'train', 'dataset_digest': '...'}] (the digest is optional).")
        params.append(d["dataset_name"])
        term = f"{alias}.dataset_name = ?"
        if d.get("dataset_digest"):
            params.append(d["dataset_digest"])
            term += f" AND {alias}.dataset_digest = ?"
        terms.append(f"({term})")
    return "(" + " OR ".join(terms) + ")"


def compile_datasets_only(datasets: list[dict] | None, params: list) -> str | None:
    """Models with any metric on one of ``datasets`` (MLflow's rule without metric clauses)."""
    if not datasets:
        return None
    cond = dataset_condition(datasets, "d", params)
    return f"m.model_id IN (SELECT d.model_id FROM logged_model_metrics d WHERE {cond})"


def compile_model_clause(c: ModelClause, params: list, datasets: list[dict] | None = None) -> str:
    """A SQL condition on ``logged_models m`` for one clause, appending its parameters.

    With ``datasets``, a metric clause looks only at metrics logged on those datasets.
    """
    if c.kind == "attribute":
        return _compare("m." + ATTRIBUTES[c.key], c.op, c.value, params)
    params.append(c.key)
    if c.kind == "metric":
        # A model's metric is its latest value (by step, then time), as MLflow shows it.
        inner = dataset_condition(datasets, "y", params)
        cond = _compare("x.value", c.op, c.value, params)
        outer = dataset_condition(datasets, "x", params)
        return ("m.model_id IN (SELECT x.model_id FROM logged_model_metrics x WHERE x.key = ? "
                "AND NOT EXISTS (SELECT 1 FROM logged_model_metrics y WHERE y.model_id = "
                "x.model_id AND y.key = x.key AND (y.step > x.step OR (y.step = x.step AND "
                f"y.timestamp > x.timestamp)) AND {inner}) AND {cond} AND {outer})")
    table = {"param": "logged_model_params", "tag": "logged_model_tags"}[c.kind]
    return f"m.model_id IN (SELECT model_id FROM {table} WHERE key = ? AND " \
           f"{_compare('value', c.op, c.value, params)})"


def compile_model_order(order_by: list[dict] | None) -> tuple[str, list]:
    """ORDER BY text and parameters for MLflow's ``[{field_name, ascending}]`` list.

    Raises:
        InvalidParameterError: for a field that is not a model attribute or ``metrics.<key>``.
    """
    terms, params = [], []
    for item in order_by or []:
        field = str(item.get("field_name") or "")
        direction = "ASC" if item.get("ascending", True) else "DESC"
        if field.startswith("metrics."):
            params.append(field[len("metrics."):])
            column = ("(SELECT x.value FROM logged_model_metrics x WHERE x.model_id = m.model_id "
                      "AND x.key = ? ORDER BY x.step DESC, x.timestamp DESC LIMIT 1)")
        elif field.removeprefix("attributes.") in ATTRIBUTES:
            column = "m." + ATTRIBUTES[field.removeprefix("attributes.")]
        else:
            raise InvalidParameterError(
                f"Cannot order logged models by {field!r}: use a model attribute "
                f"({', '.join(sorted(ATTRIBUTES))}) or metrics.<key>."
            )
        terms.append(f"({column} IS NULL), {column} {direction}")
    terms.append("m.creation_timestamp DESC, m.rowid DESC")
    return ", ".join(terms), params
