"""The runs page's pure helpers: order keys, missing cells, group header widths."""

from __future__ import annotations

import math

import pandas as pd

from kernelflow.search import parse_order_by
from kernelflow_dashboard.ui.runs import group_widths, order_key, table_value


def test_order_key_quotes_keys_that_are_not_plain_words():
    assert order_key("metrics.acc") == "metrics.acc"
    assert order_key("params.my lr") == "params.`my lr`"
    term = parse_order_by(order_key("params.my lr") + " DESC")[0]
    assert (term.key, term.ascending) == ("my lr", False)


def test_missing_cells_show_a_dash_and_values_stay_text():
    assert table_value(math.nan) == "-" and table_value(None) == "-"
    assert table_value(0.5) == "0.5"
    assert table_value("<b>x</b>") == "<b>x</b>"


def test_group_widths_widen_only_groups_narrower_than_their_label():
    frame = pd.DataFrame({"metrics.acc": ["0.5"], "params.a": ["x" * 40], "params.b": ["1"]})
    groups = {"Metrics": ["metrics.acc"], "Parameters": ["params.a", "params.b"]}
    widths = group_widths(frame, groups, {"metrics.acc": "acc"})
    assert set(widths) == {"metrics.acc"}
    assert widths["metrics.acc"] >= len("Metrics") * 7.5
