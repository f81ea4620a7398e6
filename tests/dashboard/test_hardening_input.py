"""Issue 15, bad input: always a 400 naming the field, never a 500 (surrogates, numbers past
64 bits, deep nesting, dangling symlinks, oversized names and control characters), and an
unexpected error answers MLflow's INTERNAL_ERROR with an id, not the exception's text."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading

import pytest
import requests

API = "/api/2.0/mlflow"
SURROGATE = "\\ud800"  # as it appears in JSON text: a lone UTF-16 surrogate


def call(server, method: str, endpoint: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}{API}/{endpoint}", timeout=60, **kwargs)


def raw_json(server, method: str, endpoint: str, text: str) -> requests.Response:
    return call(server, method, endpoint, data=text.encode(),
                headers={"Content-Type": "application/json"})


def assert_400(resp: requests.Response, *words: str) -> None:
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST"), body
    for word in words:
        assert word in body["message"], (word, body["message"])


@pytest.fixture(scope="module")
def seeded(dashboard_server):
    """The shared server with an experiment, a run and a registered model."""
    s = dashboard_server
    exp = call(s, "POST", "experiments/create", json={"name": "hardening-input"}).json()
    run = call(s, "POST", "runs/create", json={"experiment_id": exp["experiment_id"]}).json()
    call(s, "POST", "registered-models/create", json={"name": "hardening-model"})
    return s, exp["experiment_id"], run["run"]["info"]["run_id"]


# -- 6. lone surrogates ----------------------------------------------------------------------
@pytest.mark.parametrize("method, endpoint, template, field", [
    ("POST", "runs/create", '{"experiment_id":"EXP","run_name":"S"}', "run_name"),
    ("POST", "runs/update", '{"run_id":"RUN","run_name":"S"}', "run_name"),
    ("POST", "experiments/create", '{"name":"S"}', "name"),
    ("POST", "registered-models/create", '{"name":"S"}', "name"),
    ("POST", "model-versions/create", '{"name":"hardening-model","source":"S"}', "source"),
    ("POST", "logged-models", '{"experiment_id":"EXP","name":"S"}', "name"),
    ("POST", "runs/log-inputs",
     '{"run_id":"RUN","datasets":[{"dataset":{"name":"S","digest":"d"}}]}',
     "datasets[0].dataset.name"),
    ("POST", "runs/set-tag", '{"run_id":"RUN","key":"k","value":"S"}', "value"),
    ("POST", "experiments/create", '{"name":"ok","tags":[{"key":"S","value":"v"}]}',
     "tags[0].key"),
])
def test_lone_surrogate_is_a_400(seeded, method, endpoint, template, field):
    s, exp, run = seeded
    text = template.replace("EXP", exp).replace("RUN", run).replace('"S"', f'"x{SURROGATE}"')
    assert_400(raw_json(s, method, endpoint, text), f"'{field}'", "surrogate")


# -- 7. numbers past 64 bits ------------------------------------------------------------------
BIG = "99999999999999999999"


@pytest.mark.parametrize("method, endpoint, kwargs, field", [
    ("GET", "model-versions/get", {"params": {"name": "hardening-model", "version": BIG}},
     "version"),
    ("GET", "experiments/get", {"params": {"experiment_id": BIG}}, "experiment_id"),
    ("POST", "runs/search", {"json": {"experiment_ids": [BIG]}}, "experiment_ids[0]"),
    ("POST", "runs/search", {"json": {"experiment_ids": ["0"],
                                      "filter": f"attributes.start_time > {BIG}999"}}, "filter"),
    ("POST", "runs/log-metric", {"data": '{"run_id":"RUN","key":"m","value":1,"timestamp":1,'
                                 '"step":' + BIG + '}'}, "step"),
    ("POST", "model-versions/transition-stage", {"json": {
        "name": "hardening-model", "version": BIG, "stage": "Staging"}}, "version"),
])
def test_numbers_past_64_bits_are_a_400(seeded, method, endpoint, kwargs, field):
    s, _, run = seeded
    if "data" in kwargs:
        kwargs = {"data": kwargs["data"].replace("RUN", run),
                  "headers": {"Content-Type": "application/json"}}
    assert_400(call(s, method, endpoint, **kwargs), field, "64-bit")


def test_infinite_version_number_in_a_filter_is_no_500(seeded):
    s, _, _ = seeded
    resp = call(s, "GET", "model-versions/search", params={"filter": "version_number > 1e999"})
    assert resp.status_code in (200, 400), resp.text
    if resp.status_code == 200:
        assert resp.json().get("model_versions", []) == []


# -- 8. deep nesting ----------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [150, 5000])
def test_deeply_nested_json_is_a_400(seeded, depth):
    s, _, _ = seeded
    text = '{"name":' + "[" * depth + "]" * depth + "}"
    assert_400(raw_json(s, "POST", "experiments/create", text))
    assert_400(raw_json(s, "POST", "runs/search", "[" * depth + "]" * depth))


# -- 9. dangling symlinks in artifact folders --------------------------------------------------
def test_dangling_symlink_is_left_out_of_listings(seeded):
    s, exp, run = seeded
    folder = s.artifact_root / exp / run / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kept.txt").write_text("hi")
    os.symlink(folder / "gone.txt", folder / "dangling.txt")
    listing = call(s, "GET", "artifacts/list", params={"run_id": run})
    assert listing.status_code == 200, listing.text
    assert [f["path"] for f in listing.json()["files"]] == ["kept.txt"]
    proxied = requests.get(f"{s.url}/api/2.0/mlflow-artifacts/artifacts",
                           params={"path": f"{exp}/{run}/artifacts"})
    assert proxied.status_code == 200, proxied.text
    assert [f["path"] for f in proxied.json()["files"]] == ["kept.txt"]


# -- 10. MLflow's length limits, no control characters in names -------------------------------
@pytest.mark.parametrize("endpoint, body, field, limit", [
    ("runs/create", {"experiment_id": "0", "run_name": "r" * 1_000_000}, "run_name", "250"),
    ("experiments/create", {"name": "e" * 1_000_000}, "name", "500"),
    ("experiments/update", {"experiment_id": "0", "new_name": "e" * 501}, "new_name", "500"),
])
def test_oversized_names_are_refused(seeded, endpoint, body, field, limit):
    s, _, _ = seeded
    assert_400(call(s, "POST", endpoint, json=body), f"'{field}'", limit)


def test_names_at_the_limit_are_accepted(seeded):
    s, _, _ = seeded
    assert call(s, "POST", "experiments/create", json={"name": "e" * 500}).status_code == 200
    ok = call(s, "POST", "runs/create", json={"experiment_id": "0", "run_name": "r" * 250})
    assert ok.status_code == 200 and ok.json()["run"]["info"]["run_name"] == "r" * 250


@pytest.mark.parametrize("endpoint, body, field", [
    ("experiments/create", {"name": "bad\x00name"}, "name"),
    ("runs/create", {"experiment_id": "0", "run_name": "bad\x00"}, "run_name"),
    ("registered-models/create", {"name": "bad\nname"}, "name"),
    ("registered-models/rename", {"name": "hardening-model", "new_name": "x\x1b[31m"}, "new_name"),
])
def test_control_characters_in_names_are_refused(seeded, endpoint, body, field):
    s, _, _ = seeded
    assert_400(call(s, "POST", endpoint, json=body), f"'{field}'", "control characters")
    listed = call(s, "GET", "experiments/search", params={"max_results": 1000}).json()
    assert not any("\x00" in e["name"] for e in listed["experiments"])


# -- 11. unexpected errors: INTERNAL_ERROR with an id, never the exception's text ---------------
def test_unexpected_error_answers_an_id_not_the_exception(caplog):
    import tornado.web

    from kernelflow_dashboard.api.base import BaseHandler, Security

    class Boom(BaseHandler):
        def get(self) -> None:
            raise RuntimeError("secret detail /etc/shadow")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ready, loops = threading.Event(), []

    def run() -> None:
        async def main() -> None:
            app = tornado.web.Application([(r"/boom", Boom, {"security": Security()})])
            server = app.listen(port, address="127.0.0.1")
            loops.append((asyncio.get_running_loop(), stop := asyncio.Event(), server))
            ready.set()
            await stop.wait()
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        with caplog.at_level(logging.ERROR, logger="kernelflow_dashboard.api"):
            resp = requests.get(f"http://127.0.0.1:{port}/boom", timeout=30)
    finally:
        loop, stop, _ = loops[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    assert resp.status_code == 500
    body = resp.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "secret detail" not in resp.text and "RuntimeError" not in resp.text
    error_id = re.search(r"Internal error ([0-9a-f]{8})", body["message"]).group(1)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and "secret detail" in str(logged[0].exc_info[1])
