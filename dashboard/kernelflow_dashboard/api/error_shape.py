"""MLflow 3's error body: ``error_code`` and ``message`` plus ``sqlstate`` and ``error_class``.

MLflow 3.17's server adds both to every error it answers (``MlflowException``), derived
from the error code; clients and the web UI may read them. The table is MLflow's own
mapping for the codes kernelflow answers with; codes MLflow leaves without a class
(``UNAUTHENTICATED``, ``MALFORMED_REQUEST``) stay without.
"""

from __future__ import annotations

from typing import Any

_CLASSES: dict[str, tuple[str, str]] = {  # error_code -> (sqlstate, error_class)
    "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
    "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "PERMISSION_DENIED": ("KAM00", "PERMISSION_DENIED"),
    "FEATURE_DISABLED": ("KAM00", "FEATURE_DISABLED"),
    "INVALID_STATE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    "INTERNAL_ERROR": ("XXM00", "CLIENT_INTERNAL_ERROR"),
    "TEMPORARILY_UNAVAILABLE": ("XXM00", "CLIENT_INTERNAL_ERROR"),
}


def mlflow_error(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with MLflow's ``sqlstate`` and ``error_class`` for its ``error_code`` added."""
    found = _CLASSES.get(str(body.get("error_code")))
    if found is None:
        return body
    return {**body, "sqlstate": found[0], "error_class": found[1]}
