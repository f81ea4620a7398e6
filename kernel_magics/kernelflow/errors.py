"""One exception hierarchy for kernelflow.

Every error a user can cause is a :class:`KernelflowError` whose message says
what was wrong and what to do. ``error_code`` and ``http_status`` match the
MLflow REST API so the dashboard server can return them unchanged.
"""

from __future__ import annotations


class KernelflowError(Exception):
    """Base class of every error kernelflow raises on purpose."""

    error_code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def to_dict(self) -> dict:
        """Return the MLflow REST error body for this error."""
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameterError(KernelflowError, ValueError):
    """A value given by the user is not valid (bad key, bad value, bad filter)."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class FilterSyntaxError(InvalidParameterError):
    """A search filter or order_by string could not be parsed."""


class ResourceNotFoundError(KernelflowError, LookupError):
    """A run, experiment, model or version does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class ResourceExistsError(KernelflowError):
    """Something with that name already exists."""

    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class InvalidStateError(KernelflowError):
    """The operation does not fit the current state (a deleted run, a finished run)."""

    error_code = "INVALID_STATE"
    http_status = 400


class StoreError(KernelflowError):
    """The tracking store could not be opened or written (schema too new, disk full, ...)."""

    error_code = "INTERNAL_ERROR"
    http_status = 500


class LoggingError(KernelflowError):
    """The background writer failed to commit logged data; the data is kept for retry."""

    error_code = "INTERNAL_ERROR"
    http_status = 500
