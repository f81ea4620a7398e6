"""``%%kf llm``: the cell's text is the prompt; the answer streams in as Markdown."""

from __future__ import annotations

import json
import string
from typing import Any

from kernelflow.errors import KernelflowError

__all__ = ["run_llm_cell", "fill_placeholders"]


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_placeholders(text: str, namespace: dict) -> str:
    """Replace ``{name}`` with the value of ``name`` in ``namespace``; unknown ones stay."""
    values = _Keep()
    for _, field, _, _ in string.Formatter().parse(text):
        if field and field.isidentifier() and field in namespace:
            values[field] = namespace[field]
    try:
        return text.format_map(values)
    except (ValueError, IndexError, KeyError, AttributeError):
        return text  # braces that are not placeholders (JSON, code): send the text as is


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise KernelflowError(f"-p takes NAME=VALUE, like -p temperature=0.2; got {pair!r}.")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def _span(kernelflow: Any, route: str) -> Any:
    start_span = getattr(kernelflow, "start_span", None)
    if start_span is None:  # a core without tracing
        import contextlib

        return contextlib.nullcontext()
    return start_span(f"llm/{route}", span_type="CHAT_MODEL")


def run_llm_cell(shell: Any, cell: str, route: str = "chat", system: str | None = None,
                 params: list[str] | None = None) -> None:
    """Send the cell to ``route`` and stream the answer under the cell as Markdown.

    The call is made inside a span of the active run's trace, which the gateway
    continues, so the prompt and the answer are recorded with the run.
    """
    from IPython.display import Markdown, display

    import kernelflow

    from .api import chat

    prompt = fill_placeholders(cell.strip(), getattr(shell, "user_ns", {}) or {})
    if not prompt:
        raise KernelflowError("%%kf llm: the cell is empty; write the prompt under the magic.")
    messages = ([{"role": "system", "content": system}] if system else []) + \
        [{"role": "user", "content": prompt}]
    handle = display(Markdown("…"), display_id=True)
    parts: list[str] = []
    with _span(kernelflow, route) as span:
        if span is not None:
            span.set_inputs({"route": route, "messages": messages, **_params(params or [])})
        for chunk in chat(route, messages, stream=True, **_params(params or [])):
            for choice in chunk.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    parts.append(piece)
                    handle.update(Markdown("".join(parts)))
        answer = "".join(parts)
        if span is not None:
            span.set_outputs(answer)
    handle.update(Markdown(answer or "*(empty answer)*"))
