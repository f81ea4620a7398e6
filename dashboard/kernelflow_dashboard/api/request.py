"""The fields of one REST call, read strictly with MLflow's types and error messages.

Every endpoint reads its fields through :class:`Params`: a required or optional
string, a 64-bit whole number, a number, a flag, a list of strings or a list of
objects. A field of the wrong type is a 400 ``INVALID_PARAMETER_VALUE`` naming the
field (``metrics[2].step`` inside a list), never a Python error.

JSON bodies must carry JSON types (as MLflow's protobuf parsing demands; whole
numbers and numbers may also be numeric strings, as in protobuf's JSON form).
Query arguments are all strings, so for GET calls they are converted.

Before any endpoint runs, :func:`check_fields` refuses what no field may hold: JSON
nested deeper than ``MAX_DEPTH``, strings that are not valid Unicode (lone surrogates),
and names (``name``, ``run_name``...) over MLflow's length limits or with control
characters. :func:`out_of_range_message` names the field behind an out-of-range number.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from kernelflow.errors import InvalidParameterError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_WHOLE = re.compile(r"[+-]?\d+")
_SPECIAL_FLOATS = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf,
                   "inf": math.inf, "-inf": -math.inf}
_FLAGS = {"true": True, "false": False, "1": True, "0": False}
# MLflow's protobuf parser refuses JSON nested deeper than 100 levels.
MAX_DEPTH = 100
# MLflow's limits: experiment (and dataset) names 500, runs' name column 250 characters.
NAME_LIMITS = {"name": 500, "new_name": 500, "experiment_name": 500, "run_name": 250}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BIG_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class Params(dict):
    """Request fields (JSON body, or query arguments for GET) with typed readers.

    Args:
        data: the fields.
        where: how the fields are named in messages: ``"metrics[0]."`` for an item of a list.
        query: the values came from a query string (all strings; lists for repeated names).
    """

    def __init__(self, data: dict | None = None, *, where: str = "", query: bool = False) -> None:
        super().__init__(data or {})
        self.where, self.query = where, query

    # -- strings ------------------------------------------------------------------------
    def need(self, *names: str) -> str:
        """Return the first of ``names`` that is present (MLflow's aliases like run_uuid).

        Raises:
            InvalidParameterError: if none is present, or the value is not a string.
        """
        for name in names:
            value = self.text(name)
            if value not in (None, ""):
                return value
        raise InvalidParameterError(f"Missing value for required parameter '{self.name(names[0])}'.")

    def text(self, name: str, default: str | None = None) -> str | None:
        """An optional string field (``default`` when absent or null)."""
        value = self._scalar(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.invalid(name, value, "a string")
        return value

    def many(self, name: str) -> list[str]:
        """A repeated string field (a single query value becomes a one-item list)."""
        value = self.get(name)
        if value is None:
            return []
        if self.query and isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise self.invalid(name, value, "a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InvalidParameterError(_message(f"{self.name(name)}[{i}]", item, "a string"))
        return value

    # -- numbers ------------------------------------------------------------------------
    def integer(self, name: str, default: int | None = None) -> int | None:
        """An optional 64-bit whole number (numeric strings too, as protobuf's JSON allows)."""
        value = self._scalar(name)
        if value in (None, ""):
            return default
        number = _whole(value)
        if number is None:
            raise self.invalid(name, value, "a whole number")
        if not INT64_MIN <= number <= INT64_MAX:
            raise self.invalid(name, value, "a whole number within the 64-bit range")
        return number

    def number(self, name: str) -> float:
        """A required number; accepts MLflow's ``"NaN"``/``"Infinity"``/``"-Infinity"``."""
        value = self._scalar(name)
        if value in (None, ""):
            raise InvalidParameterError(
                f"Missing value for required parameter '{self.name(name)}'.")
        number = _float(value)
        if number is None:
            raise self.invalid(name, value, "a number")
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean field (``true``/``false`` strings in query arguments)."""
        value = self._scalar(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _FLAGS:
            return _FLAGS[value.lower()]
        raise self.invalid(name, value, "true or false")

    # -- objects ------------------------------------------------------------------------
    def obj(self, name: str, required: bool = False) -> Params | None:
        """A nested object field, itself read with these readers (``None`` when absent)."""
        value = self.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.invalid(name, value, "an object")
        return Params(value, where=f"{self.name(name)}.")

    def objects(self, name: str) -> list[Params]:
        """A repeated object field: each item is read with these readers."""
        value = self.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.invalid(name, value, "a list of objects")
        out = []
        for i, item in enumerate(value):
            where = f"{self.name(name)}[{i}]"
            if not isinstance(item, dict):
                raise InvalidParameterError(_message(where, item, "an object"))
            out.append(Params(item, where=where + "."))
        return out

    def tags(self, name: str = "tags", value_field: str = "value") -> dict[str, str]:
        """A list of ``{"key": ..., "value": ...}`` objects as a dict (a missing value is "")."""
        return {item.need("key"): item.text(value_field, "") for item in self.objects(name)}

    # -- helpers ------------------------------------------------------------------------
    def name(self, field: str) -> str:
        """The field's full name for messages (``metrics[0].step``)."""
        return f"{self.where}{field}"

    def invalid(self, field: str, value: Any, expected: str) -> InvalidParameterError:
        """The error for a field of the wrong type or out of range."""
        return InvalidParameterError(_message(self.name(field), value, expected))

    def _scalar(self, name: str) -> Any:
        value = self.get(name)
        if isinstance(value, list) and self.query:
            if len(value) > 1:
                raise self.invalid(name, value, "one value (it was given more than once)")
            value = value[0] if value else None
        return value


def _message(field: str, value: Any, expected: str) -> str:
    # The value in JSON form, as MLflow's messages show it (code matches on them).
    try:
        shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return (f"Invalid value {shown} for parameter '{field}' supplied: expected {expected}, "
            f"got {_json_type(value)}.")


def _json_type(value: Any) -> str:
    for kind, label in ((bool, "a boolean"), (str, "a string"), (dict, "an object"),
                        (list, "a list"), (int, "a whole number"), (float, "a number")):
        if isinstance(value, kind):
            return label
    return "null" if value is None else type(value).__name__


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # a JSON whole number beyond a double's range
            return None
    if isinstance(value, str):
        special = _SPECIAL_FLOATS.get(value.strip().lower())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            return None
    return None


# -- whole-request checks --------------------------------------------------------------
def check_fields(data: Any) -> None:
    """Refuse a request whose fields no endpoint could store (see the module docstring).

    Raises:
        InvalidParameterError: naming the field (``datasets[0].dataset.name``) and the rule.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidParameterError(
                f"The request nests objects and lists deeper than {MAX_DEPTH} levels; no "
                "MLflow field does: send the structure as a JSON string or an artifact.")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check_unicode(key, f"{where}{key}")
                path = f"{where}.{key}" if where else key
            else:
                path = f"{where}[{key}]"
            if isinstance(item, str):
                _check_unicode(item, path)
                if isinstance(key, str) and key in NAME_LIMITS:
                    _check_name(item, path, NAME_LIMITS[key])
            elif isinstance(item, (dict, list)):
                stack.append((item, path, depth + 1))


def _check_unicode(text: str, field: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameterError(
            f"Invalid value for parameter '{field}': it holds a lone UTF-16 surrogate "
            "(like \\ud800), which is not a character; send valid Unicode text.") from None


def _check_name(text: str, field: str, limit: int) -> None:
    if len(text) > limit:
        raise InvalidParameterError(
            f"Invalid value for parameter '{field}': it is {len(text)} characters long; "
            f"the limit is {limit}.")
    bad = _CONTROL.search(text)
    if bad:
        raise InvalidParameterError(
            f"Invalid value for parameter '{field}': names may not contain control "
            f"characters (found {bad.group()!r} at position {bad.start()}).")


def out_of_range_message(fields: Any) -> str:
    """The message for a number SQLite cannot store (past 64 bits, or infinite).

    Names the first field holding such a number, inside a filter string too.
    """
    stack: list[tuple[Any, str]] = [(fields, "")]
    while stack:
        value, where = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            path = (f"{where}.{key}" if where else str(key)) if isinstance(key, str) \
                else f"{where}[{key}]"
            if isinstance(item, (dict, list)):
                stack.append((item, path))
            elif _has_big_number(item):
                return (f"Invalid value for parameter '{path}': it holds a number outside the "
                        f"64-bit range ({INT64_MIN} to {INT64_MAX}); use a smaller number.")
    return (f"A number in the request is outside the 64-bit range ({INT64_MIN} to "
            f"{INT64_MAX}); use a smaller number.")


def _has_big_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return math.isinf(value)
    if not isinstance(value, str):
        return False
    for token in _BIG_NUMBER.findall(value):
        try:
            number = float(token)
        except ValueError:
            continue
        if math.isinf(number) or not INT64_MIN <= number <= INT64_MAX:
            return True
    return False
