"""MLflow's filter grammar: parsing, SQL compilation, and hostile input."""

from __future__ import annotations

import pytest

import kernelflow as kf
from kernelflow.errors import FilterSyntaxError
from kernelflow.search import Clause, OrderBy, parse_filter, parse_order_by


@pytest.fixture
def runs(tracking_uri):
    kf.set_experiment("grid")
    made = {}
    for i, (opt, acc) in enumerate([("adam", 0.9), ("sgd", 0.7), ("adam", 0.4), ("Adam", 0.8)]):
        with kf.start_run(run_name=f"run-{i}", tags={"team": "vision" if i % 2 else "nlp"}) as r:
            kf.log_params({"opt": opt, "i": i})
            kf.log_metric("acc", acc)
            if i == 0:
                kf.log_metric("extra metric", 1.0)
        made[i] = r.info.run_id
    return made


def _names(filter_string, order_by=None):
    frame = kf.search_runs(experiment_names=["grid"], filter_string=filter_string, order_by=order_by)
    if frame.empty:
        return []
    return sorted(frame["tags.mlflow.runName"]) if order_by is None else list(frame["tags.mlflow.runName"])


def test_parse_clauses():
    clauses = parse_filter("metrics.acc > 0.5 and params.opt = 'adam' AND tags.`a b` LIKE 'x%'")
    assert clauses == [
        Clause("metric", "acc", ">", 0.5),
        Clause("param", "opt", "=", "adam"),
        Clause("tag", "a b", "LIKE", "x%"),
    ]


def test_parse_attributes_and_in():
    assert parse_filter("attributes.status IN ('FINISHED', 'FAILED')") == [
        Clause("attribute", "status", "IN", ("FINISHED", "FAILED"))
    ]
    assert parse_filter("run_name != 'x'") == [Clause("attribute", "run_name", "!=", "x")]
    assert parse_filter('metrics."my key" <= -1e3') == [Clause("metric", "my key", "<=", -1000.0)]


def test_parse_order_by():
    assert parse_order_by(["metrics.acc DESC", "attributes.start_time"]) == [
        OrderBy("metric", "acc", False), OrderBy("attribute", "start_time", True)
    ]
    with pytest.raises(FilterSyntaxError, match="ASC or DESC"):
        parse_order_by(["metrics.acc DOWN"])


@pytest.mark.parametrize(
    ("bad", "position", "words"),
    [
        ("metrics.a > 1 OR metrics.b < 2", 14, "OR is not supported"),
        ("metrics.a = 'x'", 12, "compares with a number"),
        ("params.x > 1", 9, "cannot be used"),
        ("foo.bar = 1", 0, "unknown key type"),
        ("metrics.a >", 11, "expected a value"),
        ("metrics.a > 1 ;", 14, "unexpected character"),
        ("status = FINISHED", 9, "quoted string"),
        ("bogus = 'x'", 0, "unknown attribute"),
        ("params.x IN 'a'", 12, "list in parentheses"),
    ],
)
def test_malformed_filters_point_at_the_token(bad, position, words):
    with pytest.raises(FilterSyntaxError) as err:
        parse_filter(bad)
    assert f"position {position}" in str(err.value)
    assert words in str(err.value)
    assert bad + "\n" + " " * position + "^" in str(err.value)


def test_metric_comparisons(runs):
    assert _names("metrics.acc > 0.75") == ["run-0", "run-3"]
    assert _names("metrics.acc >= 0.7 AND metrics.acc < 0.9") == ["run-1", "run-3"]
    assert _names("metrics.acc != 0.9") == ["run-1", "run-2", "run-3"]
    assert _names("metrics.`extra metric` = 1") == ["run-0"]


def test_param_and_tag_comparisons(runs):
    assert _names("params.opt = 'adam'") == ["run-0", "run-2"]
    assert _names("params.opt LIKE 'a%'") == ["run-0", "run-2"]  # LIKE is case-sensitive
    assert _names("params.opt ILIKE 'a%'") == ["run-0", "run-2", "run-3"]
    assert _names("params.opt != 'adam'") == ["run-1", "run-3"]
    assert _names("tags.team = 'vision'") == ["run-1", "run-3"]
    assert _names("metrics.acc > 0.5 and params.opt = 'adam'") == ["run-0"]


def test_attribute_comparisons(runs):
    assert _names(f"attributes.run_id = '{runs[2]}'") == ["run-2"]
    assert _names(f"attributes.run_id IN ('{runs[1]}', '{runs[3]}')") == ["run-1", "run-3"]
    assert _names(f"attributes.run_id NOT IN ('{runs[1]}')") == ["run-0", "run-2", "run-3"]
    assert _names("attributes.run_name LIKE 'run-_'") == ["run-0", "run-1", "run-2", "run-3"]
    assert _names("attributes.status = 'FINISHED'") == ["run-0", "run-1", "run-2", "run-3"]
    assert _names("attributes.start_time > 0") == ["run-0", "run-1", "run-2", "run-3"]
    assert _names("attributes.end_time < 0") == []


def test_like_wildcards_are_not_globs(runs):
    assert _names("params.opt LIKE 'ad*'") == []
    assert _names("params.opt LIKE 'ad[a]m'") == []


def test_order_by(runs):
    assert _names("", ["metrics.acc DESC"]) == ["run-0", "run-3", "run-1", "run-2"]
    assert _names("", ["metrics.acc ASC"]) == ["run-2", "run-1", "run-3", "run-0"]
    assert _names("", ["params.i DESC"]) == ["run-3", "run-2", "run-1", "run-0"]
    # runs without the key sort last either way
    assert _names("", ["metrics.`extra metric` DESC"])[0] == "run-0"
    assert _names("", ["attributes.run_name ASC"]) == ["run-0", "run-1", "run-2", "run-3"]


@pytest.mark.parametrize(
    "hostile",
    [
        "params.opt = 'a'' OR 1=1 --'",
        "params.opt = 'x'' UNION SELECT * FROM params --'",
        "tags.team = '''; DROP TABLE runs; --'",
        "params.`opt = 'adam' OR 1=1 --` = 'x'",
        "attributes.run_id IN ('a'') OR (''1''=''1')",
    ],
)
def test_injection_attempts_are_plain_values(runs, hostile):
    assert _names(hostile) == []
    assert len(kf.search_runs(experiment_names=["grid"])) == 4  # the tables are intact


def test_sql_never_contains_user_values():
    from kernelflow.store.search_sql import compile_where

    sql, params = compile_where(parse_filter("params.opt = 'a'' OR 1=1 --'"), [1], "active")
    assert "OR 1=1" not in sql and "a' OR 1=1 --" in params


def test_is_null_and_is_not_null(runs):
    assert _names("metrics.`extra metric` IS NOT NULL") == ["run-0"]
    assert _names("metrics.`extra metric` IS NULL") == ["run-1", "run-2", "run-3"]
    assert _names("params.opt IS NOT NULL AND tags.missing IS NULL") == [
        "run-0", "run-1", "run-2", "run-3"]
    with pytest.raises(FilterSyntaxError, match="expected NULL"):
        parse_filter("params.x IS 'a'")


def test_order_by_errors_say_order_by():
    with pytest.raises(FilterSyntaxError, match="Invalid order_by term") as err:
        parse_order_by(["metrics.acc DOWN"])
    assert "metrics.acc DESC" in str(err.value)
    with pytest.raises(FilterSyntaxError, match="a string"):
        parse_filter(5)
