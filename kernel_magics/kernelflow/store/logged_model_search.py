"""Search filters and ordering for logged models, compiled to parameterised SQL.

MLflow's logged-model filter grammar is the runs grammar with other attributes
(``name``, ``model_id``, ``source_run_id``, ``status``, ``model_type``,
``creation_timestamp``, ``last_updated_timestamp``) next to ``metrics.``,
``params.`` and ``tags.``. Clauses are joined by AND. User values only ever
become ``?`` parameters; column names come from the whitelists below.
"""

from __future__ import annotations

from ..errors import InvalidParameterError
from ..search import LIST_OPS, NUMERIC_OPS, STRING_OPS, Clause, Grammar, parse
from .search_sql import SqlTable, compare_sql, compile_for

ATTRIBUTES = {
    "name": "name", "model_id": "model_id", "source_run_id": "source_run_id",
    "status": "status", "model_type": "model_type", "experiment_id": "experiment_id",
    "creation_timestamp": "creation_timestamp", "creation_time": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}
LOGGED_MODELS = Grammar(
    name="logged-model filter",
    attributes=ATTRIBUTES,
    numeric=frozenset({"creation_timestamp", "last_updated_timestamp", "experiment_id"}),
    kinds={"metric": NUMERIC_OPS, "param": STRING_OPS | LIST_OPS, "tag": STRING_OPS | LIST_OPS},
    hint="Write clauses like: name = 'model' AND tags.team = 'ml' AND metrics.acc > 0.9",
    bad_operator="{key!r} is compared with {allowed}, not {op}",
)
# MLflow's proto status names are accepted in filters too.
_STATUS_ALIASES = {"LOGGED_MODEL_PENDING": "PENDING", "LOGGED_MODEL_READY": "READY",
                   "LOGGED_MODEL_UPLOAD_FAILED": "FAILED"}
ModelClause = Clause  # one ``kind.key op value`` condition of a logged-model filter


def parse_model_filter(source: str | None) -> list[Clause]:
    """Parse a logged-model filter into clauses joined by AND.

    Raises:
        FilterSyntaxError: pointing at the offending token, with an example.
    """
    return parse(source, LOGGED_MODELS)


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


def _latest_metric(c: Clause, params: list, datasets: list[dict] | None) -> str:
    """A model's metric is its latest value (by step, then time), as MLflow shows it; with
    ``datasets``, only metrics logged on those datasets count."""
    params.append(c.key)
    inner = dataset_condition(datasets, "y", params)
    cond = compare_sql("x.value", c.op, c.value, params)
    outer = dataset_condition(datasets, "x", params)
    return ("m.model_id IN (SELECT x.model_id FROM logged_model_metrics x WHERE x.key = ? "
            "AND NOT EXISTS (SELECT 1 FROM logged_model_metrics y WHERE y.model_id = "
            "x.model_id AND y.key = x.key AND (y.step > x.step OR (y.step = x.step AND "
            f"y.timestamp > x.timestamp)) AND {inner}) AND {cond} AND {outer})")


def compile_model_clause(c: Clause, params: list, datasets: list[dict] | None = None) -> str:
    """A SQL condition on ``logged_models m`` for one clause, appending its parameters.

    With ``datasets``, a metric clause looks only at metrics logged on those datasets.
    """
    table = SqlTable("m", ("model_id",),
                     {"param": ("logged_model_params", ""), "tag": ("logged_model_tags", "")},
                     custom={"metric": lambda clause, ps: _latest_metric(clause, ps, datasets)},
                     values={"status": lambda v: _STATUS_ALIASES.get(v, v)})
    return compile_for(c, LOGGED_MODELS, table, params)


def compile_model_order(order_by: list[dict] | None) -> tuple[str, list]:
    """ORDER BY text and parameters for MLflow's ``[{field_name, ascending}]`` list.

    Raises:
        InvalidParameterError: for a field that is not a model attribute or ``metrics.<key>``.
    """
    terms, params, columns = [], [], set()
    for item in order_by or []:
        field = str(item.get("field_name") or "")
        direction = "ASC" if item.get("ascending", True) else "DESC"
        if field.startswith("metrics."):
            params.append(field[len("metrics."):])
            on = ""
            if item.get("dataset_name"):  # MLflow: the metric on that dataset only
                on = " AND x.dataset_name = ?"
                params.append(item["dataset_name"])
                if item.get("dataset_digest"):
                    on += " AND x.dataset_digest = ?"
                    params.append(item["dataset_digest"])
            column = ("(SELECT x.value FROM logged_model_metrics x WHERE x.model_id = m.model_id "
                      f"AND x.key = ?{on} ORDER BY x.step DESC, x.timestamp DESC LIMIT 1)")
        elif field.removeprefix("attributes.") in ATTRIBUTES:
            columns.add(ATTRIBUTES[field.removeprefix("attributes.")])
            column = "m." + ATTRIBUTES[field.removeprefix("attributes.")]
        else:
            raise InvalidParameterError(
                f"Invalid order by field name: {field}. Only metrics are supported besides "
                f"the model's attributes: use a model attribute "
                f"({', '.join(sorted(ATTRIBUTES))}) or metrics.<key>."
            )
        terms.append(f"({column} IS NULL), {column} {direction}")
    # MLflow's tie-breakers: newest first, then by model id.
    if "creation_timestamp" not in columns:
        terms.append("m.creation_timestamp DESC")
    if "model_id" not in columns:
        terms.append("m.model_id ASC")
    return ", ".join(terms), params
