"""Fixtures for the gateway tests: a fake provider and a real gateway on 127.0.0.1.

``fake`` is one FakeProvider per module (OpenAI, Anthropic and MLflow-scoring
protocols; its handler sets ``disable_nagle_algorithm``). ``run_gateway`` serves a
Gateway with uvicorn in a thread on a free port and returns a ``Running`` with its
``url``, ``gateway`` and ``client``.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from gateway_helpers import SECRET  # noqa: E402


@pytest.fixture(scope="module")
def fake():
    from kernelflow_gateway.fake import FakeProvider

    with FakeProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def module_client(tmp_path_factory):
    import kernelflow

    path = tmp_path_factory.mktemp("gateway") / "kernelflow.db"
    return kernelflow.Client(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def secret_env():
    old = os.environ.get("KF_TEST_PROVIDER_KEY")
    os.environ["KF_TEST_PROVIDER_KEY"] = SECRET
    yield SECRET
    if old is None:
        del os.environ["KF_TEST_PROVIDER_KEY"]
    else:
        os.environ["KF_TEST_PROVIDER_KEY"] = old
