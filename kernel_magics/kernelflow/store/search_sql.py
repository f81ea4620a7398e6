"""Compile parsed search clauses to parameterised SQL: the one compiler of every search.

An entity's :class:`SqlTable` says where its attributes and keyed values live (the
runs table ``r`` with ``latest_metrics``, ``params`` and ``tags``; experiments with
``experiment_tags``; ...), and :func:`compile_clauses` turns the clauses its
:class:`~kernelflow.search.Grammar` parsed into a WHERE condition. Every user value
becomes a ``?`` parameter; only fixed column names and operators from whitelists are
written into the SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import FilterSyntaxError
from ..search import ATTRIBUTES, RUNS, Clause, Grammar, OrderBy

_SUBQUERY_TABLE = {"metric": "latest_metrics", "param": "params", "tag": "tags"}


@dataclass(frozen=True)
class SqlTable:
    """Where one entity's searchable data lives.

    Attributes:
        alias: the entity table's alias in the query (``r``, ``e``, ``m``, ``v``, ...).
        ids: the entity's key columns (``("run_uuid",)``, ``("name", "version")``).
        keyed: key type -> (table of ``key``/``value`` rows, extra condition on it).
        expressions: column -> SQL expression to compare instead of ``alias.column``.
        custom: key type -> a function ``(clause, params) -> sql`` for what does not fit.
        values: column -> a function mapping a user value to the stored one.
    """

    alias: str
    ids: tuple[str, ...]
    keyed: dict[str, tuple[str, str]] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Callable[[Clause, list], str]] = field(default_factory=dict)
    values: dict[str, Callable] = field(default_factory=dict)


def _dataset_clause(clause: Clause, params: list) -> str:
    """``dataset.name`` / ``dataset.digest`` / ``dataset.context``: runs with such an input."""
    if clause.key in ("name", "digest"):
        cond = compare_sql(f"d.{clause.key}", clause.op, clause.value, params)
        return ("r.run_uuid IN (SELECT i.run_uuid FROM dataset_inputs i JOIN datasets d "
                f"ON d.dataset_uuid = i.dataset_uuid WHERE {cond})")
    if clause.key == "context":
        cond = compare_sql("t.value", clause.op, clause.value, params)
        return ("r.run_uuid IN (SELECT i.run_uuid FROM dataset_inputs i JOIN input_tags t "
                f"ON t.input_uuid = i.input_uuid WHERE t.key = 'mlflow.data.context' AND {cond})")
    raise FilterSyntaxError(
        f"Invalid search filter: dataset.{clause.key} is not a dataset field; use dataset.name, "
        "dataset.digest or dataset.context, like dataset.context = 'train'.")


RUNS_TABLE = SqlTable("r", ("run_uuid",), {
    "metric": ("latest_metrics", " AND is_nan = 0"), "param": ("params", ""), "tag": ("tags", "")},
    custom={"dataset": _dataset_clause})


def _integral(value):
    if isinstance(value, tuple):
        return tuple(_integral(v) for v in value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def compile_for(clause: Clause, grammar: Grammar, table: SqlTable, params: list) -> str:
    """A SQL condition on ``table`` for one clause of ``grammar``, appending its parameters."""
    if clause.kind in table.custom:
        return table.custom[clause.kind](clause, params)
    a = table.alias
    if clause.kind == "attribute":
        column = grammar.attributes[clause.key]
        value = clause.value
        if column in grammar.numeric:
            value = _integral(value)
        if column in table.values:
            convert = table.values[column]
            value = tuple(map(convert, value)) if isinstance(value, tuple) else convert(value)
        return compare_sql(table.expressions.get(column, f"{a}.{column}"), clause.op, value, params)
    keyed, extra = table.keyed[clause.kind]
    params.append(clause.key)
    negate = "NOT " if clause.op == "IS NULL" else ""
    if len(table.ids) == 1:
        (ident,) = table.ids
        if clause.op in ("IS NULL", "IS NOT NULL"):
            return f"{a}.{ident} {negate}IN (SELECT {ident} FROM {keyed} WHERE key = ?)"
        cond = compare_sql("value", clause.op, clause.value, params)
        return f"{a}.{ident} IN (SELECT {ident} FROM {keyed} WHERE key = ?{extra} AND {cond})"
    join = " AND ".join(f"k.{c} = {a}.{c}" for c in table.ids)
    if clause.op in ("IS NULL", "IS NOT NULL"):
        return f"{negate}EXISTS (SELECT 1 FROM {keyed} k WHERE {join} AND k.key = ?)"
    cond = compare_sql("k.value", clause.op, clause.value, params)
    return f"EXISTS (SELECT 1 FROM {keyed} k WHERE {join} AND k.key = ?{extra} AND {cond})"


def compile_clauses(clauses: list[Clause], grammar: Grammar, table: SqlTable,
                    params: list) -> list[str]:
    """SQL conditions (to AND together) for parsed clauses, appending their parameters."""
    return [compile_for(c, grammar, table, params) for c in clauses]


def like_to_glob(pattern: str) -> str:
    """Translate a SQL LIKE pattern to a case-sensitive GLOB pattern (MLflow's LIKE is)."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def compare_sql(column: str, op: str, value, params: list) -> str:
    """``column op ?`` for one comparison (IN lists, LIKE/ILIKE as case-aware GLOB)."""
    if op in ("IN", "NOT IN"):
        params.extend(value)
        marks = ", ".join("?" for _ in value)
        return f"{column} {op} ({marks})"
    if op == "LIKE":
        params.append(like_to_glob(value))
        return f"{column} GLOB ?"
    if op == "ILIKE":
        params.append(like_to_glob(value.lower()))
        return f"lower({column}) GLOB ?"
    params.append(value)
    return f"{column} {op} ?"


def compile_clause(clause: Clause, params: list) -> str:
    """Return a SQL condition on runs ``r`` for one clause, appending its parameters."""
    return compile_for(clause, RUNS, RUNS_TABLE, params)


def compile_where(
    clauses: list[Clause], experiment_ids: list[int], lifecycle: str | None
) -> tuple[str, list]:
    """Build the WHERE text and parameters for a run search."""
    params: list = []
    # As MLflow: runs of the given experiments only; an empty list matches nothing.
    parts = [f"r.experiment_id IN ({', '.join('?' for _ in experiment_ids)})"]
    params.extend(experiment_ids)
    if lifecycle:
        parts.append("r.lifecycle_stage = ?")
        params.append(lifecycle)
    for clause in clauses:
        parts.append(compile_clause(clause, params))
    return (" AND ".join(parts) or "1"), params


def compile_order(order: list[OrderBy]) -> tuple[str, str, list]:
    """Return (JOIN text, ORDER BY text, join parameters) with MLflow's order and tie-breakers.

    As MLflow's SQL store: runs lacking a key sort last (a NaN metric just before them);
    then ``start_time DESC`` unless ordered by start time already; then ``run_uuid`` ASC,
    so that pages are stable and the same as MLflow's.
    """
    joins, terms, params = [], [], []
    for i, term in enumerate(order):
        direction = "ASC" if term.ascending else "DESC"
        if term.kind == "attribute":
            column = "r." + ATTRIBUTES[term.key]
            terms.append(f"({column} IS NULL), {column} {direction}")
            continue
        if term.kind not in _SUBQUERY_TABLE:
            raise FilterSyntaxError(
                f"Invalid order_by term: runs cannot be ordered by {term.kind}.{term.key}; "
                "order by attributes, metrics, params or tags.")
        alias = f"o{i}"
        table = _SUBQUERY_TABLE[term.kind]
        joins.append(
            f"LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = ?"
        )
        params.append(term.key)
        column = f"{alias}.value"
        rank = (f"CASE WHEN {alias}.is_nan = 1 THEN 1 WHEN {column} IS NULL THEN 2 ELSE 0 END"
                if term.kind == "metric" else f"({column} IS NULL)")
        terms.append(f"{rank}, {column} {direction}")
    if not any(t.kind == "attribute" and ATTRIBUTES[t.key] == "start_time" for t in order):
        terms.append("r.start_time DESC")
    terms.append("r.run_uuid ASC")
    return " ".join(joins), ", ".join(terms), params
