"""GenAI evaluation: scorers, LLM judges and evaluation datasets (``kf.genai``).

::

    @kf.genai.scorer
    def concise(outputs):
        return len(outputs) < 200

    judge = kf.genai.Correctness(model="openai/gpt-4o-mini")   # or model="route:judge"
    result = kf.genai.evaluate(
        data=[{"inputs": {"question": "2+2?"}, "expectations": {"expected_response": "4"}}],
        predict_fn=my_app, scorers=[concise, judge])
    result.metrics          # {"concise/mean": 1.0, "correctness/mean": 1.0}
    result.result_df        # one row per input: values, rationales, errors, trace ids

Each row is a trace with its expectations and every verdict as assessments
(``kf.Client().get_assessments(trace_id)``); ``kf.log_feedback`` and
``kf.log_expectation`` add more to any trace. Evaluation datasets live in the
tracking store: ``kf.genai.datasets.create_dataset(name)``, ``.merge_records(...)``,
``get_dataset``, ``search_datasets``; MLflow's ``mlflow.genai.datasets`` works
against a kernelflow server too. litellm is imported only when a judge calls.
"""

from __future__ import annotations

from ..lazy import lazy_exports

# Loaded on first use: the Client imports ``kernelflow.genai.client``, which must not
# pull numpy or the evaluation machinery into every ``import kernelflow``.
_EXPORTS = {
    "evaluate": "evaluation", "GenAIEvaluationResult": "evaluation", "RowResult": "evaluation",
    "Correctness": "judges", "Guidelines": "judges", "Judge": "judges", "JudgeError": "judges",
    "RelevanceToQuery": "judges", "RetrievalGroundedness": "judges", "Safety": "judges",
    "Feedback": "scorers", "Scorer": "scorers", "scorer": "scorers",
}
_SUBMODULES = {"datasets", "judges"}

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, _SUBMODULES, __all__)
