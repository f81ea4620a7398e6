"""Search filters and order_by for registered models and model versions (MLflow's grammar).

Registered models::   name = 'iris'   name LIKE 'iris%'   tags.team = 'ml'
Model versions::      name = 'iris' AND version_number > 2   run_id IN ('a', 'b')
                      source_path = '...'   tags.validated = 'yes'   current_stage = 'Production'

Values become ``?`` parameters; only whitelisted column names reach the SQL.
"""

from __future__ import annotations

from ..errors import FilterSyntaxError
from ..search import LIST_OPS, NUMERIC_OPS, STRING_OPS, Clause, Grammar, parse, parse_order
from .search_sql import SqlTable, compile_clauses

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
MODELS = Grammar(
    name="registry search filter",
    attributes=MODEL_ATTRS,
    numeric=frozenset(),
    kinds={"tag": STRING_OPS | LIST_OPS},
    hint="Write clauses like: name LIKE 'iris%' AND tags.team = 'ml'",
    prefixes={"tags": "tag", "tag": "tag", "attributes": "attribute", "attribute": "attribute"},
    unknown_attribute="unknown key {name!r}; use {known} or tags.<key>",
    numeric_strings=True,
    order_hint="Order by name, creation_timestamp, last_updated_timestamp (and version_number "
               "for versions), then ASC or DESC.",
)
VERSIONS = MODELS.with_names(attributes=VERSION_ATTRS, numeric=frozenset({"version"}),
                             attribute_ops={"version": NUMERIC_OPS | LIST_OPS},
                             hint="Write clauses like: name = 'iris' AND version_number > 1")
_ORDER = {False: MODELS.with_names(attributes=MODEL_ORDER, numeric=frozenset()),
          True: VERSIONS.with_names(attributes=VERSION_ORDER, numeric=frozenset())}


def parse_registry_filter(filter_string: str | None, versions: bool) -> list[Clause]:
    """Parse a registered-model (``versions=False``) or model-version filter.

    Raises:
        FilterSyntaxError: pointing at the offending token.
    """
    if filter_string is not None and not isinstance(filter_string, str):
        raise FilterSyntaxError(
            f"filter_string must be a string such as \"name = 'iris'\" (or None), "
            f"not {filter_string!r}."
        )
    return parse(filter_string, VERSIONS if versions else MODELS)


def compile_conditions(conditions: list[Clause], alias: str, tag_table: str,
                       keys: str) -> tuple[str, list]:
    """Return ``(where_sql, params)`` over table alias ``alias``.

    ``tag_table`` and ``keys`` (e.g. ``"name, version"``) say how tags join.
    """
    ids = tuple(k.strip() for k in keys.split(","))
    grammar = VERSIONS if "version" in ids else MODELS
    params: list = []
    parts = ["1 = 1", *compile_clauses(conditions, grammar, SqlTable(alias, ids, {
        "tag": (tag_table, "")}), params)]
    return " AND ".join(parts), params


def compile_order(order_by: list[str] | None, versions: bool, alias: str) -> str:
    """Return an ORDER BY clause body; unknown keys raise FilterSyntaxError."""
    if order_by is not None and (
        not isinstance(order_by, (list, tuple)) or not all(isinstance(t, str) for t in order_by)
    ):
        raise FilterSyntaxError(
            f"order_by must be a list of strings such as ['name ASC', 'version DESC'], "
            f"not {order_by!r}."
        )
    grammar = _ORDER[versions]
    terms = [f"{alias}.{grammar.attributes[t.key]} {'ASC' if t.ascending else 'DESC'}"
             for t in parse_order(order_by, grammar, kinds=frozenset())]
    default = [f"{alias}.name ASC", f"{alias}.version DESC"] if versions else [f"{alias}.name ASC"]
    return ", ".join(terms + default)
