"""Compile parsed search clauses to parameterised SQL over the runs table ``r``.

Every user value becomes a ``?`` parameter; only fixed column names and
operators from whitelists are written into the SQL text.
"""

from __future__ import annotations

from ..search import ATTRIBUTES, Clause, OrderBy

_SUBQUERY_TABLE = {"metric": "latest_metrics", "param": "params", "tag": "tags"}


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
    if clause.kind == "attribute":
        column = "r." + ATTRIBUTES[clause.key]
        value = clause.value
        if column in ("r.start_time", "r.end_time", "r.experiment_id"):
            value = int(value) if not isinstance(value, tuple) else value
        return compare_sql(column, clause.op, value, params)
    table = _SUBQUERY_TABLE[clause.kind]
    params.append(clause.key)
    if clause.op in ("IS NULL", "IS NOT NULL"):
        negate = "NOT " if clause.op == "IS NULL" else ""
        return f"r.run_uuid {negate}IN (SELECT run_uuid FROM {table} WHERE key = ?)"
    extra = " AND is_nan = 0" if clause.kind == "metric" else ""
    cond = compare_sql("value", clause.op, clause.value, params)
    return f"r.run_uuid IN (SELECT run_uuid FROM {table} WHERE key = ?{extra} AND {cond})"


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
