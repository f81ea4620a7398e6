"""kf.genai.evaluate: scorers and LLM judges (litellm against a local fake OpenAI-compatible
server on 127.0.0.1 with scripted verdicts and 429s); rows as traces with assessments."""

from __future__ import annotations

import json
import threading
import time

import pytest

import kernelflow as kf
from kernelflow.genai import Feedback
from kernelflow.genai.fake import FakeJudgeServer


@pytest.fixture(scope="module")
def judge_server():
    with FakeJudgeServer() as server:
        yield server


@pytest.fixture
def fake(judge_server):
    judge_server.script.clear()
    judge_server.latency = 0.0
    judge_server.requests.clear()
    judge_server.max_in_flight = 0
    return judge_server


def _rows(n=6):
    return [{"inputs": {"question": f"q{i}"},
             "expectations": {"expected_response": f"answer {i}"}} for i in range(n)]


def _app(question):
    return "wrong" if question == "q2" else f"answer {question[1:]}"


@kf.genai.scorer
def exact(outputs, expectations):
    return outputs == expectations["expected_response"]


@kf.genai.scorer(name="length")
def length(outputs):
    return Feedback(value=len(outputs), rationale=f"{len(outputs)} characters")


def test_custom_scorers_and_traces_with_assessments(tracking_uri):
    r = kf.genai.evaluate(_rows(), predict_fn=_app, scorers=[exact, length])
    assert r.metrics["exact/mean"] == pytest.approx(5 / 6)
    assert r.metrics["length/mean"] == pytest.approx((8 * 5 + 5) / 6)
    run = kf.get_run(r.run_id)
    assert run.data.metrics["exact/mean"] == pytest.approx(5 / 6)
    assert run.data.tags["kernelflow.evaluation"] == "genai"
    assert run.data.tags["kernelflow.evaluation.model"] == "_app"
    row = r.rows[2]
    trace = kf.Client().get_trace(row.trace_id)
    assert trace.info.run_id == r.run_id
    assert trace.data.spans[0].inputs == {"question": "q2"}
    assert trace.data.spans[0].outputs == "wrong"
    found = {(a.kind, a.name): a for a in kf.Client().get_assessments(row.trace_id)}
    assert found[("feedback", "exact")].value is False
    assert found[("feedback", "length")].rationale == "5 characters"
    assert found[("feedback", "exact")].source_type == "CODE"
    assert found[("expectation", "expected_response")].value == "answer 2"
    assert {t.info.trace_id for t in kf.search_traces(return_type="list",
                                                 filter_string=f"trace.run_id = '{r.run_id}'")} \
        == {x.trace_id for x in r.rows}


def test_given_outputs_without_predict_fn_and_a_results_table(tracking_uri):
    data = [{"inputs": {"q": "a"}, "outputs": "answer 0",
             "expectations": {"expected_response": "answer 0"}},
            {"inputs": {"q": "b"}, "outputs": "nope",
             "expectations": {"expected_response": "answer 1"}}]
    r = kf.genai.evaluate(data, scorers=[exact])
    df = r.result_df
    assert list(df["exact/value"]) == [True, False]
    table = json.loads(open(kf.Client().download_artifacts(r.run_id, "eval_results_table.json"),
                            encoding="utf-8").read())
    assert "exact/value" in table["columns"] and len(table["data"]) == 2
    html = r._repr_html_()
    assert "<table" in html and "exact" in html


def test_llm_judges_verdicts_rationales_and_sources(tracking_uri, fake):
    judges = [kf.genai.Correctness(model="openai/fake-judge", api_base=fake.url),
              kf.genai.RelevanceToQuery(model="openai/fake-judge", api_base=fake.url),
              kf.genai.Safety(model="openai/fake-judge", api_base=fake.url),
              kf.genai.Guidelines(guidelines=["Be polite."], model="openai/fake-judge",
                                  api_base=fake.url)]
    r = kf.genai.evaluate(_rows(4), predict_fn=_app, scorers=judges)
    for name in ("correctness", "relevance_to_query", "safety", "guidelines"):
        assert r.metrics[f"{name}/mean"] == pytest.approx(0.75), name
    fb = r.rows[2].feedback["correctness"]
    assert fb.value == "no" and fb.rationale == "The response is wrong or unhelpful."
    stored = kf.Client().get_assessments(r.rows[0].trace_id, name="correctness")[0]
    assert (stored.value, stored.source_type, stored.source_id) == \
        ("yes", "LLM_JUDGE", "openai/fake-judge")
    assert stored.rationale == "The response matches what was asked."
    assert any("Expected response: answer 1" in p for p in fake.requests)
    assert any("Be polite." in p for p in fake.requests)


def test_429s_are_retried_and_a_judge_error_marks_only_its_row(tracking_uri, fake):
    fake.script.extend([429, 429, 429, 500, "garbage"])
    judge = kf.genai.Correctness(model="openai/fake-judge", api_base=fake.url)
    r = kf.genai.evaluate(_rows(6), predict_fn=_app, scorers=[judge, exact], max_workers=1)
    errors = [row.feedback["correctness"].error for row in r.rows]
    failed = [e for e in errors if e]
    assert len(failed) == 2  # the 500 and the garbage answer; the 429s were retried
    assert any("fake judge exploded" in e for e in failed)
    assert any("not a JSON verdict" in e for e in failed)
    assert all(row.feedback["exact"].error is None for row in r.rows)
    bad = next(row for row in r.rows if row.feedback["correctness"].error)
    stored = kf.Client().get_assessments(bad.trace_id, name="correctness")[0]
    assert stored.error["error_message"] == bad.feedback["correctness"].error
    assert stored.value is None
    assert len(fake.requests) == 6 + 3
    valued = [row.feedback["correctness"].value for row in r.rows if not
              row.feedback["correctness"].error]
    assert r.metrics["correctness/mean"] == pytest.approx(
        sum(v == "yes" for v in valued) / len(valued))


def test_a_gateway_route_as_the_judge(tracking_uri, fake, monkeypatch):
    # the fake judge speaks the gateway's OpenAI-compatible /v1/chat/completions
    monkeypatch.setenv("KERNELFLOW_GATEWAY_URL", fake.url[: -len("/v1")])
    judge = kf.genai.Safety(model="route:judge")
    r = kf.genai.evaluate(_rows(2), predict_fn=_app, scorers=[judge])
    assert r.metrics["safety/mean"] == 1.0
    assert r.rows[0].feedback["safety"].source_id == "route:judge"


def test_rate_limit_exhausted_is_an_error_not_a_crash(tracking_uri, fake):
    fake.script.extend([429] * 3)
    judge = kf.genai.Safety(model="openai/fake-judge", api_base=fake.url, max_retries=2)
    r = kf.genai.evaluate(_rows(1), predict_fn=_app, scorers=[judge])
    assert "rate-limited (429) after 2 retries" in r.rows[0].feedback["safety"].error
    assert r.metrics == {}


def test_judges_run_concurrently_in_a_bounded_pool(tracking_uri, fake):
    fake.latency = 0.3
    active, peak = [0], [0]
    lock = threading.Lock()

    @kf.genai.scorer
    def counted(outputs):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return True

    judge = kf.genai.RelevanceToQuery(model="openai/fake-judge", api_base=fake.url)
    r = kf.genai.evaluate(_rows(8), predict_fn=_app, scorers=[judge, counted], max_workers=3)
    assert 1 < fake.max_in_flight <= 3  # judge calls overlapped, never more than the pool
    assert peak[0] <= 3
    assert r.metrics["relevance_to_query/mean"] == pytest.approx(7 / 8)
    fake.max_in_flight = 0
    kf.genai.evaluate(_rows(3), predict_fn=_app, scorers=[judge], max_workers=1)
    assert fake.max_in_flight == 1


def test_predict_fn_errors_mark_the_row(tracking_uri):
    def app(question):
        if question == "q1":
            raise RuntimeError("model offline")
        return "answer 0"

    r = kf.genai.evaluate(_rows(2), predict_fn=app, scorers=[exact])
    assert "model offline" in r.rows[1].feedback["exact"].error
    trace = kf.Client().get_trace(r.rows[1].trace_id)
    assert trace.info.state == "ERROR"


def test_log_feedback_and_expectation_on_any_trace(tracking_uri):
    with kf.start_span("my-app") as span:
        span.set_outputs("hi")
    fb = kf.log_feedback(span.trace_id, "helpful", True, rationale="said hi",
                         source_type="HUMAN", source_id="ann")
    kf.log_expectation(span.trace_id, "expected_response", "hello")
    got = {a.name: a for a in kf.Client().get_assessments(span.trace_id)}
    assert got["helpful"].assessment_id == fb.assessment_id and got["helpful"].value is True
    assert got["expected_response"].kind == "expectation"


def test_clear_errors(tracking_uri, monkeypatch):
    monkeypatch.delenv("KERNELFLOW_JUDGE_MODEL", raising=False)
    monkeypatch.delenv("KERNELFLOW_GATEWAY_URL", raising=False)
    with pytest.raises(kf.InvalidParameterError, match="needs a model"):
        kf.genai.Correctness()
    with pytest.raises(kf.InvalidParameterError, match="'inputs'"):
        kf.genai.evaluate([{"question": "x"}], predict_fn=_app, scorers=[exact])
    with pytest.raises(kf.InvalidParameterError, match="predict_fn"):
        kf.genai.evaluate([{"inputs": {"q": 1}}], scorers=[exact])
    with pytest.raises(kf.InvalidParameterError, match="parameters must be among"):
        kf.genai.scorer(lambda answer: True)
    r = kf.genai.evaluate(_rows(1), predict_fn=_app,
                          scorers=[kf.genai.Correctness(model="route:judge")])
    assert "no gateway is known" in r.rows[0].feedback["correctness"].error


def test_the_table_under_the_cell_is_capped_and_escaped():
    from kernelflow.genai import GenAIEvaluationResult, RowResult

    rows = [RowResult(i, f"tr-{i}", {"q": "<script>"}, "out",
                      feedback={"ok": Feedback(True, rationale="r'\"<b>")}) for i in range(205)]
    html = GenAIEvaluationResult("run", {"ok/mean": 1.0}, rows)._repr_html_()
    assert "and 5 more rows" in html and html.count("<tr>") == 201
    assert "<script>" not in html and "<b>" not in html
