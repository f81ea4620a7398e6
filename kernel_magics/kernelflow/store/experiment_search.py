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
from ..search import (
    LIST_OPS,
    NULL_OPS,
    STRING_OPS,
    Clause,
    Grammar,
    OrderBy,
    parse,
    parse_order,
)
from .search_sql import SqlTable, compile_clauses

ATTRIBUTES = {"name": "name", "experiment_id": "experiment_id",
              "creation_time": "creation_time", "last_update_time": "last_update_time"}
EXPERIMENTS = Grammar(
    name="experiment filter",
    attributes=ATTRIBUTES,
    numeric=frozenset({"creation_time", "last_update_time"}),
    kinds={"tag": STRING_OPS | NULL_OPS},
    attribute_ops={"experiment_id": frozenset({"=", "!="}) | LIST_OPS, "name": STRING_OPS},
    hint=("Write clauses like: name LIKE 'iris%' AND tags.team = 'ml' AND "
          "creation_time > 1700000000000; order by name, experiment_id, creation_time or "
          "last_update_time."),
    unknown_attribute="Invalid attribute key '{name}' specified; valid keys are {known}",
    bad_operator="Invalid comparator '{op}' for {kind} {key!r}; use one of {allowed}",
    order_hint="Order by name, experiment_id, creation_time or last_update_time, then ASC or DESC.",
)
TABLE = SqlTable("e", ("experiment_id",), {"tag": ("experiment_tags", "")},
                 expressions={"experiment_id": "CAST(e.experiment_id AS TEXT)"})
DEFAULT_ORDER = [OrderBy("attribute", "creation_time", False),
                 OrderBy("attribute", "experiment_id", True)]


def parse_experiment_filter(filter_string: str | None) -> list[Clause]:
    """Parse an experiment search filter (MLflow's grammar) into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    return parse(filter_string, EXPERIMENTS)


def parse_experiment_order_by(order_by: list[str] | str | None) -> list[OrderBy]:
    """Parse order_by terms (``"name"``, ``"creation_time DESC"``); MLflow's default if empty.

    Raises:
        FilterSyntaxError: for an unknown column, a tag, or a word other than ASC/DESC.
    """
    if not order_by:
        return list(DEFAULT_ORDER)
    if isinstance(order_by, list) and any(not isinstance(t, str) or not t.strip()
                                          for t in order_by):
        raise FilterSyntaxError(
            f"Invalid order_by term in {order_by!r}: use 'name', 'creation_time DESC', ...")
    terms = parse_order(order_by, EXPERIMENTS, kinds=frozenset())
    if not any(t.key == "experiment_id" for t in terms):
        terms.append(OrderBy("attribute", "experiment_id", False))
    return terms


def compile_experiment_where(clauses: list[Clause], lifecycle: str | None) -> tuple[str, list]:
    """WHERE text and parameters over the ``experiments`` table ``e``."""
    parts, params = ["1"], []
    if lifecycle:
        parts.append("e.lifecycle_stage = ?")
        params.append(lifecycle)
    parts += compile_clauses(clauses, EXPERIMENTS, TABLE, params)
    return " AND ".join(parts), params


def compile_experiment_order(order: list[OrderBy]) -> str:
    """ORDER BY text (column names from the whitelist only)."""
    return ", ".join(f"e.{ATTRIBUTES[t.key]} {'ASC' if t.ascending else 'DESC'}" for t in order)
