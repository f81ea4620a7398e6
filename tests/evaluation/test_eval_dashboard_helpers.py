"""The evaluation page's pure helpers: the per-row table, verdict changes, escaping."""

from __future__ import annotations

import pytest

pytest.importorskip("panel")
from kernelflow_dashboard.ui import evaluation as ev  # noqa: E402

HOSTILE = "<img src=x onerror=alert(1)>"


def _doc(rows):
    columns = ["row", "trace_id", "inputs", "outputs", "expectations", "correctness/value",
               "correctness/rationale", "correctness/error"]
    return {"columns": columns, "data": [[r.get(c) for c in columns] for r in rows]}


A = [{"row": 0, "trace_id": "tr-a0", "inputs": {"q": "1"}, "outputs": "one",
      "correctness/value": "yes", "correctness/rationale": "right"},
     {"row": 1, "trace_id": "tr-a1", "inputs": {"q": "2"}, "outputs": HOSTILE,
      "correctness/value": "no", "correctness/rationale": HOSTILE},
     {"row": 2, "trace_id": "tr-a2", "inputs": {"q": "3"}, "outputs": "x",
      "correctness/error": "judge down"}]
B = [{"row": 0, "trace_id": "tr-b2", "inputs": {"q": "3"}, "correctness/value": "yes"},
     {"row": 1, "trace_id": "tr-b0", "inputs": {"q": "1"}, "correctness/value": "yes"},
     {"row": 2, "trace_id": "tr-b1", "inputs": {"q": "2"}, "correctness/value": "yes"}]


def test_rows_and_scorers_from_the_table():
    rows = ev.table_rows(_doc(A))
    assert [r["trace_id"] for r in rows] == ["tr-a0", "tr-a1", "tr-a2"]
    assert ev.scorer_names(rows) == ["correctness"]


def test_verdict_changes_match_rows_by_inputs():
    changes = ev.verdict_changes(ev.table_rows(_doc(A)), ev.table_rows(_doc(B)))
    assert [(c["inputs"], c["a"], c["b"]) for c in changes] == \
        [({"q": "2"}, "no", "yes"), ({"q": "3"}, "error", "yes")]
    assert changes[0]["trace_a"] == "tr-a1" and changes[0]["trace_b"] == "tr-b1"


def test_html_escapes_and_keeps_rationales_on_hover():
    html = ev.rows_html(ev.table_rows(_doc(A)))
    assert HOSTILE not in html and "&lt;img src=x" in html
    assert 'title="right"' in html and 'title="judge down"' in html
    assert "traces?trace_id=tr-a0" in html
    changes = ev.changes_html(ev.verdict_changes(A, B), "run A", "run <b>")
    assert "2 verdict(s) changed" in changes and "run &lt;b&gt;" in changes
    assert "No row changed" in ev.changes_html([], "a", "b")


def test_long_tables_are_capped():
    rows = [{"row": i, "inputs": {"q": i}, "correctness/value": "yes"}
            for i in range(ev.MAX_ROWS + 5)]
    html = ev.rows_html(rows)
    assert html.count("<tr>") == ev.MAX_ROWS + 1 and f"of {ev.MAX_ROWS + 5} rows" in html
