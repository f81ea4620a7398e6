"""Every gateway call as a trace, through kernelflow's public tracing API.

A call's span is written when the call ends (for a stream: when the last chunk has
gone), with the timing measured during the call, so a span never has to outlive the
asyncio task that opened it. An incoming ``traceparent`` header is continued.
Tracing failures are logged and never reach the caller. Without ``kernelflow.tracing``
(an older core) calls are still recorded in the gateway's call table.
"""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["Tracer", "NO_SPAN"]

log = logging.getLogger("kernelflow.gateway")

_SPAN_TYPES = {"chat": "CHAT_MODEL", "completions": "LLM", "embeddings": "EMBEDDING"}


class _NoSpan:
    """The span of an untraced gateway: does nothing."""

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def finish(self, outputs: Any, record: dict) -> None:
        """Nothing to record."""

    def fail(self, error: Any, record: dict) -> None:
        """Nothing to record."""


NO_SPAN = _NoSpan()


class _CallSpan(_NoSpan):
    def __init__(self, tracer: Tracer, route: Any, kind: str, inputs: dict, headers: Any,
                 record: dict) -> None:
        self.tracer, self.route, self.kind = tracer, route, kind
        self.inputs, self.headers, self.record = inputs, headers, record
        self.start_ns = time.time_ns()

    def finish(self, outputs: Any, record: dict) -> None:
        self.tracer.emit(self, outputs, record, error=None)

    def fail(self, error: Any, record: dict) -> None:
        self.tracer.emit(self, None, record, error=error)


class Tracer:
    """Writes one trace per call to the experiment ``experiment`` of ``client``'s store.

    Args:
        client: the ``kernelflow.Client`` whose store receives the traces.
        experiment: the experiment's name (created if missing).
        process_wide: this process is the gateway's own (``kernelflow gateway``): send all
            its traces to ``experiment`` in ``client``'s store. Otherwise (in-process calls
            from a notebook, a gateway in a test's thread) traces go where kernelflow's
            tracing sends them by default: the active run, else the current experiment.
    """

    def __init__(self, client: Any, experiment: str | None = "gateway",
                 process_wide: bool = False) -> None:
        self.client = client
        self.experiment = experiment if process_wide else None
        self.process_wide = process_wide
        self._api: Any = None
        self._experiment_id: str | None = None
        try:
            import kernelflow.tracing as api

            if hasattr(api, "start_span") or hasattr(api, "continue_trace"):
                self._api = api
        except ImportError:  # a core without tracing: calls are only in gateway_calls
            self._api = None

    def span(self, route: Any, kind: str, inputs: dict, headers: Any, record: dict) -> Any:
        """A span for one call; ``finish`` or ``fail`` writes it."""
        if self._api is None:
            return NO_SPAN
        return _CallSpan(self, route, kind, inputs, headers, record)

    def _experiment(self) -> str | None:
        if self.experiment is None:  # in-process calls follow the caller's destination
            return None
        if self._experiment_id is None:
            found = self.client.get_experiment_by_name(self.experiment)
            self._experiment_id = (found.experiment_id if found is not None else
                                   self.client.create_experiment(self.experiment))
        return self._experiment_id

    def emit(self, span: _CallSpan, outputs: Any, record: dict, error: Any) -> None:
        """Write the span of a finished call; record its trace id in ``record``."""
        try:
            self._emit(span, outputs, record, error)
        except Exception as exc:  # tracing must never fail a call
            log.warning("kernelflow gateway: could not trace a call: %s", exc)

    def _emit(self, span: _CallSpan, outputs: Any, record: dict, error: Any) -> None:
        import kernelflow

        api = self._api
        experiment_id = self._experiment()
        record["experiment_id"] = experiment_id
        attributes = {
            "gateway.route": record["route"], "gateway.provider": record["provider"],
            "gateway.model": record["model"], "gateway.key": record["key_name"],
            "gateway.status": record["status"], "gateway.stream": bool(record["stream"]),
            "gateway.cached": bool(record["cached"]), "gateway.fallbacks": record["fallbacks"],
            "mlflow.llm.model": record["model"], "mlflow.llm.provider": record["provider"],
            "mlflow.llm.cost": {"input_cost": 0.0, "output_cost": record["cost"] or 0.0,
                                "total_cost": record["cost"] or 0.0},
            "mlflow.chat.tokenUsage": {
                "input_tokens": record["prompt_tokens"],
                "output_tokens": record["completion_tokens"],
                "total_tokens": (record["prompt_tokens"] or 0) + (record["completion_tokens"] or 0),
            },
        }
        with _destination(api, experiment_id, self.client.tracking_uri), \
                api.continue_trace(span.headers or {}):
            with kernelflow.start_span(f"gateway/{record['route']}",
                                       span_type=_SPAN_TYPES.get(span.kind, "LLM")) as live:
                live.start_time_ns = span.start_ns
                live.set_inputs(span.inputs)
                live.set_attributes(attributes)
                if error is not None:
                    live.set_status("ERROR", getattr(error, "message", str(error)))
                else:
                    live.set_outputs(outputs)
                    live.set_status("OK")
                record["trace_id"] = live.trace_id
        run_id = _header(span.headers, "x-kernelflow-run-id")
        if run_id and _header(span.headers, "traceparent") is None:
            record["_run_id"] = run_id  # the recorder links the trace once it is written


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


class _destination:
    """Send the traces opened inside to the gateway's experiment and store."""

    def __init__(self, api: Any, experiment_id: str | None, tracking_uri: str) -> None:
        self.api, self.experiment_id, self.tracking_uri = api, experiment_id, tracking_uri

    def __enter__(self) -> None:
        set_destination = getattr(self.api, "set_destination", None)
        if set_destination is not None and self.experiment_id is not None:
            set_destination(experiment_id=self.experiment_id, tracking_uri=self.tracking_uri)

    def __exit__(self, *exc: object) -> None:
        return None
