"""Issue 15: generated bodies (hypothesis) sent to every REST endpoint of a real server never
get a 500, and the server stays up.

Bounded to a few hundred requests (~30 s on a loaded machine): field names are MLflow's,
values mix the seeded store's real ids with hostile ones (surrogates, NUL, numbers past 64
bits, infinities, deep and wrong-typed structures, junk bytes).
"""

from __future__ import annotations

import json
import os
import re

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelflow_dashboard.api import genai_datasets, traces
from kernelflow_dashboard.api.endpoints import ENDPOINTS, EXTENSIONS, PATH_ENDPOINTS

# A longer hunt: KERNELFLOW_FUZZ_EXAMPLES=5000 pytest tests/dashboard/test_hardening_fuzz.py
EXAMPLES = int(os.environ.get("KERNELFLOW_FUZZ_EXAMPLES", "250"))

API, EXT, ART = "/api/2.0/mlflow/", "/api/2.0/kernelflow/", "/api/2.0/mlflow-artifacts/artifacts"

FIELDS = [
    "experiment_id", "experiment_ids", "run_id", "run_uuid", "name", "new_name", "run_name",
    "experiment_name", "key", "value", "filter", "filter_string", "max_results", "page_token",
    "order_by", "version", "stage", "stages", "alias", "tags", "metrics", "params", "datasets",
    "models", "dataset", "digest", "source_type", "source", "schema", "profile", "description",
    "status", "start_time", "end_time", "timestamp", "step", "view_type", "run_view_type",
    "model_id", "path", "allow_deleted", "archive_existing_versions", "model_type",
    "source_run_id", "kind", "label", "metric_key", "run_ids", "start_step", "end_step",
    "artifact_location", "user_id", "tag", "inputs", "outputs", "experiment", "run", "token",
    "trace_id", "trace_ids", "request_id", "assessment_id", "assessment", "records",
    "dataset_id", "trace", "spans", "resourceSpans", "feedback", "expectation",
]
HOSTILE = ["", "0", "1", "-1", "\x00", "a\x00b", "\ud800", "x" * 600, "../../etc/passwd",
           "/etc/passwd", "99999999999999999999", "-99999999999999999999", "1e999", "NaN",
           "Infinity", "metrics.x > 1", "attributes.start_time > 99999999999999999999999",
           "version_number > 1e999", "name = 'm'", "params.p = 'a' AND tags.t LIKE '%'",
           "READY", "Staging", "ACTIVE_ONLY", "ALL", "FINISHED", "<script>", "m", "champion",
           "`k`", "'", '"', "\\", "%", "*"]


def scalars(ids: list[str]):
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20), st.sampled_from(HOSTILE + ids),
    )


def values(ids: list[str]):
    return st.recursive(
        scalars(ids),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3),
        max_leaves=6,
    )


def valid_fields(ids: list[str]) -> dict:
    """A body every endpoint could accept (each reads its own fields from it)."""
    exp, run, model = ids
    return {
        "experiment_id": exp, "experiment_ids": [exp], "run_id": run, "run_uuid": run,
        "name": "m", "new_name": "m2", "run_name": "r", "experiment_name": "fuzz", "key": "k",
        "value": "v", "filter": "", "max_results": 10, "version": "1", "stage": "Staging",
        "alias": "champion", "tags": [{"key": "t", "value": "v"}], "source": f"runs:/{run}/m",
        "metrics": [{"key": "x", "value": 1.5, "timestamp": 1, "step": 2}],
        "params": [{"key": "p2", "value": "b"}], "description": "d", "status": "FINISHED",
        "timestamp": 1, "step": 0, "model_id": model, "path": "", "end_time": 2,
        "datasets": [{"dataset": {"name": "d", "digest": "x", "source_type": "local",
                                  "source": "s"}, "tags": [{"key": "context", "value": "t"}]}],
        "models": [{"model_id": model}], "metric_key": "x", "run_ids": [run],
        "order_by": ["metrics.x DESC"], "view_type": "ALL", "kind": "alias", "label": "champion",
    }


STRONG = ["\ud800", "99999999999999999999", "-99999999999999999999", "1e999", "a\x00b",
          "x" * 1000, "../../x", "", " ", "NaN", "-Infinity", "0x10", "1.5"]


def _poison(value, poison, rng):
    """``value`` with string leaves replaced by ``poison`` (each with probability ~1/2)."""
    if isinstance(value, dict):
        return {k: _poison(v, poison, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, poison, rng) for v in value]
    return poison if isinstance(value, (str, int, float)) and rng.random() < 0.5 else value


class _Always:
    """A ``random.Random`` stand-in whose draws always poison."""

    def random(self) -> float:
        return 0.0


@st.composite
def bodies(draw, ids: list[str]) -> dict:
    """A valid body with a few fields dropped, then either one hostile value spread over
    its fields or a few fields replaced by generated values."""
    body = valid_fields(ids)
    for key in draw(st.sets(st.sampled_from(sorted(body)), max_size=4)):
        del body[key]
    if draw(st.booleans()):
        poison = draw(st.one_of(st.sampled_from(STRONG), st.integers(2**63, 2**70),
                                st.just(float("inf")), scalars(ids)))
        body = _poison(body, poison, draw(st.randoms(use_true_random=False)))
    for key in draw(st.lists(st.sampled_from(sorted(body) + FIELDS), max_size=3)):
        body[key] = draw(values(ids))
    return body


def _paths(prefix: str, table, samples: dict[str, str]) -> list[tuple[str, str]]:
    """Concrete paths for a table of (regex, method, function): named groups get samples."""
    out = []
    for pattern, method, *_ in table:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: samples.get(m.group(1), "x"),
                      pattern.pattern)
        out.append((method, (prefix + path).rstrip("/")))
    return out


def _routes(ids: list[str]) -> list[tuple[str, str]]:
    """Every REST route of the server (each endpoint table, artifacts, traces, datasets)."""
    samples = {"model_id": ids[-1], "tag_key": "k", "trace_id": "tr-0123456789abcdef",
               "assessment_id": "a-1", "dataset_id": "d-1", "key": "k"}
    out = [(method, API + path) for path, method in ENDPOINTS]
    out += [(method, EXT + path) for path, method in EXTENSIONS]
    out += _paths(API, PATH_ENDPOINTS, samples)
    out += _paths("/api/3.0/mlflow/traces/", traces.MLFLOW, samples)
    out += _paths(EXT + "traces/", traces.KERNELFLOW, samples)
    out += _paths("/api/3.0/mlflow/datasets/", genai_datasets.ENDPOINTS, samples)
    out += [("GET", ART), ("GET", ART + "/a/b.txt"), ("PUT", ART + "/fuzz/x.bin"),
            ("DELETE", ART + "/fuzz/x.bin"), ("GET", "/get-artifact"),
            ("POST", API + "upload-artifact"),
            ("GET", API + f"logged-models/{ids[-1]}/artifacts/files"), ("POST", "/v1/traces")]
    return sorted(set(out))


def _query(body: dict) -> dict:
    """Query arguments from a body: scalars as UTF-8 (surrogates too), lists repeated."""
    out: dict = {}
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        out[key] = [(v if isinstance(v, str) else json.dumps(v)).encode("utf-8", "surrogatepass")
                    for v in items if not isinstance(v, (dict, list))]
    return out


def _seed(url: str) -> list[str]:
    def post(endpoint: str, body: dict) -> dict:
        resp = requests.post(url + API + endpoint, json=body, timeout=60)
        assert resp.status_code == 200, resp.text
        return resp.json()

    exp = post("experiments/create", {"name": "fuzz"})["experiment_id"]
    run = post("runs/create", {"experiment_id": exp, "run_name": "fuzz-run"})["run"]["info"]
    post("runs/log-batch", {"run_id": run["run_id"], "params": [{"key": "p", "value": "a"}],
                            "metrics": [{"key": "x", "value": 1, "timestamp": 1, "step": 0}]})
    post("registered-models/create", {"name": "m"})
    post("model-versions/create", {"name": "m", "source": "runs:/" + run["run_id"] + "/model",
                                   "run_id": run["run_id"]})
    model = post("logged-models", {"experiment_id": exp, "name": "lm"})["model"]["info"]
    return [exp, run["run_id"], model["model_id"]]


def test_generated_bodies_never_get_a_500(make_server):
    server = make_server(api_only=True)
    ids = _seed(server.url)
    routes = _routes(ids)
    session = requests.Session()
    seen: list[tuple[int, str, str]] = []

    def send(method: str, path: str, body) -> None:
        kwargs: dict = {"timeout": 60}
        if isinstance(body, bytes):
            kwargs["data"] = body
        elif method in ("GET", "DELETE") and not path.startswith(API + "registered-models"):
            kwargs["params"] = _query(body)
        else:
            kwargs["data"] = json.dumps(body).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        resp = session.request(method, server.url + path, **kwargs)
        seen.append((resp.status_code, method, path))
        assert resp.status_code < 500, (method, path, body, resp.status_code, resp.text[:300])
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            resp.json()

    # Every endpoint at least once: a valid body with every value made hostile.
    for method, path in routes:
        for poison in ("\ud800", "99999999999999999999"):
            send(method, path, _poison(valid_fields(ids), poison, _Always()))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes),
           body=st.one_of(bodies(ids), bodies(ids), st.binary(max_size=40)))
    def probe(route, body):
        send(*route, body)

    probe()
    assert server.process.poll() is None, server.log()[-3000:]
    assert requests.get(server.url + "/health", timeout=30).text == "OK"
    statuses = {status for status, _, _ in seen}
    assert 200 in statuses and 400 in statuses  # the probes reached real work and refusals
    assert {path for _, _, path in seen} == {path for _, path in routes}
