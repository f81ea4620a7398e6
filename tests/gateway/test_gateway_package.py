"""The package's surface: light imports for the entry points, the plugins they name, and
the %%kf llm helpers."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("litellm", "fastapi", "starlette", "uvicorn", "httpx", "openai")


def test_entry_point_modules_stay_light():
    code = ("import sys, kernelflow_gateway, kernelflow_gateway.commands; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_plugins_are_registered():
    from kernelflow.plugins import load_commands, load_magics

    assert load_commands()["gateway"].help.startswith("serve the OpenAI-compatible")
    magics = load_magics()
    assert not magics["gateway"].cell and magics["llm"].cell


def test_placeholders_come_from_the_namespace():
    from kernelflow_gateway.llm import fill_placeholders

    ns = {"topic": "GPUs", "n": 3}
    assert fill_placeholders("Explain {topic} in {n} lines", ns) == "Explain GPUs in 3 lines"
    assert fill_placeholders("keep {unknown} as is", ns) == "keep {unknown} as is"
    assert fill_placeholders('JSON like {"a": 1} stays', ns) == 'JSON like {"a": 1} stays'


def test_llm_parameters():
    from kernelflow.errors import KernelflowError
    from kernelflow_gateway.llm import _params

    assert _params(["temperature=0.2", "stop=END", "max_tokens=5"]) == {
        "temperature": 0.2, "stop": "END", "max_tokens": 5}
    with pytest.raises(KernelflowError, match="NAME=VALUE"):
        _params(["temperature"])


def test_public_names():
    import kernelflow_gateway

    assert {"chat", "embed", "create_app", "Gateway", "load_config"} <= set(kernelflow_gateway.__all__)
    assert kernelflow_gateway.Gateway.__name__ == "Gateway"
    with pytest.raises(AttributeError):
        kernelflow_gateway.nothing  # noqa: B018


def test_chat_without_any_gateway_says_what_to_do(monkeypatch):
    from kernelflow.errors import KernelflowError
    from kernelflow_gateway import chat

    monkeypatch.delenv("KERNELFLOW_GATEWAY_URL", raising=False)
    monkeypatch.delenv("KERNELFLOW_GATEWAY_CONFIG", raising=False)
    with pytest.raises(KernelflowError, match="KERNELFLOW_GATEWAY_URL"):
        chat("chat", "hello")
