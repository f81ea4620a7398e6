"""The parsed body or query of one REST call, with MLflow's checks for required fields."""

from __future__ import annotations

from typing import Any

from kernelflow.errors import InvalidParameterError


class Params(dict):
    """Request fields (JSON body, or query arguments for GET) with typed accessors."""

    def need(self, *names: str) -> Any:
        """Return the first of ``names`` that is present (MLflow's aliases like run_uuid).

        Raises:
            InvalidParameterError: if none is present, naming the field as MLflow does.
        """
        for name in names:
            value = self.get(name)
            if value not in (None, ""):
                return value
        raise InvalidParameterError(f"Missing value for required parameter '{names[0]}'.")

    def text(self, name: str, default: str | None = None) -> str | None:
        """An optional string field."""
        value = self.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An optional whole-number field (query strings are converted)."""
        value = self.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"Invalid value {value!r} for parameter '{name}': expected a whole number."
            ) from None

    def number(self, name: str) -> float:
        """A required float field; accepts MLflow's "NaN"/"Infinity" strings."""
        value = self.need(name)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"Invalid value {value!r} for parameter '{name}': expected a number."
            ) from None

    def many(self, name: str) -> list:
        """A repeated field as a list (a single query value becomes a one-item list)."""
        value = self.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean field (``true``/``false`` strings from query arguments too)."""
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)
