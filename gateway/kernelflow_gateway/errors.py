"""Errors as OpenAI's API returns them: ``{"error": {"message", "type", "code"}}``.

Provider failures reach clients with a status that says whose fault it was: the
client's (4xx), the provider's (502), the provider's slowness (504) or a limit (429,
with ``Retry-After``). Messages pass through :func:`~kernelflow_gateway.config.redact`
so no provider secret leaves the gateway.
"""

from __future__ import annotations

from typing import Any

from kernelflow.errors import KernelflowError

from .config import redact

__all__ = ["GatewayError", "error_body", "from_exception"]


class GatewayError(KernelflowError):
    """An error answered to a gateway client in OpenAI's format.

    Args:
        message: what was wrong and what to do.
        status: the HTTP status.
        type: OpenAI's error type (``invalid_request_error``, ``rate_limit_error`` ...).
        code: a short machine-readable code.
        retry_after: seconds for the ``Retry-After`` header of a 429.
    """

    def __init__(self, message: str, status: int = 400, type: str = "invalid_request_error",
                 code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.type = type
        self.code = code or type
        self.retry_after = retry_after

    def body(self) -> dict:
        """The JSON body of the error response."""
        return error_body(self.message, self.type, self.code)

    def headers(self) -> dict[str, str]:
        """Response headers (``Retry-After`` for limits)."""
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, int(self.retry_after + 0.999)))}


def error_body(message: str, type: str, code: str | None = None) -> dict:
    """OpenAI's error object, with secrets blanked out of the message."""
    return {"error": {"message": redact(message), "type": type, "code": code or type,
                      "param": None}}


def _provider_message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    # litellm prefixes messages with its own class names; keep them short and readable.
    return text.replace("litellm.", "").strip()


def from_exception(exc: BaseException) -> GatewayError:
    """Turn an exception raised while calling a provider into a GatewayError."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, KernelflowError):
        return GatewayError(exc.message, status=exc.http_status,
                            type="invalid_request_error" if exc.http_status < 500 else "api_error",
                            code=exc.error_code.lower())
    import litellm

    message = _provider_message(exc)
    name = type(exc).__name__
    status: Any = getattr(exc, "status_code", None)
    if isinstance(exc, litellm.Timeout):
        return GatewayError(f"The provider did not answer in time: {message}", 504,
                            "timeout_error", "timeout")
    if isinstance(exc, litellm.RateLimitError) or name == "RouterRateLimitError":
        retry = _retry_after(exc)
        return GatewayError(f"The provider is rate limiting requests: {message}", 429,
                            "rate_limit_error", "rate_limit_exceeded", retry_after=retry or 1)
    if isinstance(exc, litellm.ContextWindowExceededError):
        return GatewayError(message, 400, "invalid_request_error", "context_length_exceeded")
    if isinstance(exc, litellm.ContentPolicyViolationError):
        return GatewayError(message, 400, "invalid_request_error", "content_policy_violation")
    if isinstance(exc, litellm.NotFoundError):
        return GatewayError(message, 404, "invalid_request_error", "model_not_found")
    if isinstance(exc, (litellm.BadRequestError, litellm.UnprocessableEntityError)):
        return GatewayError(message, 400, "invalid_request_error", "bad_request")
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)):
        return GatewayError(f"The provider refused the gateway's credentials: {message}. "
                            "Check the route's api_key.", 502, "api_error", "provider_auth")
    if "stream ended" in message.lower():
        return GatewayError(f"The provider's stream broke off: {message}", 502, "api_error",
                            "stream_interrupted")
    if isinstance(exc, litellm.APIConnectionError) or "connection error" in message.lower():
        return GatewayError(f"Could not reach the provider: {message}", 502, "api_error",
                            "provider_unreachable")
    if isinstance(exc, ValueError) and "model" in message.lower():
        return GatewayError(message, 400, "invalid_request_error", "bad_request")
    code = "provider_error" if isinstance(status, int) else "internal_error"
    return GatewayError(f"The provider failed: {message}", 502, "api_error", code)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return float(value) if value else None
    except (TypeError, ValueError):
        return None
