"""MLflow's scoring protocol: parse ``/invocations`` requests and shape the answers.

The messages, status codes and error codes follow ``mlflow.pyfunc.scoring_server``
(MLflow 3) so that a client written against ``mlflow models serve`` sees the same
answers: ``{"predictions": ...}`` on success, ``{"error_code": ..., "message": ...}``
with 400 for a bad payload, and a plain-text 415 for an unsupported content type.
No Ray here: the deployment calls these functions, and tests call them directly.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any

CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET]

DF_RECORDS, DF_SPLIT, INSTANCES, INPUTS = "dataframe_records", "dataframe_split", "instances", "inputs"
SUPPORTED_FORMATS = {DF_RECORDS, DF_SPLIT, INSTANCES, INPUTS}
REQUIRED_INPUT_FORMAT = (
    f"The input must be a JSON dictionary with exactly one of the input fields {SUPPORTED_FORMATS}"
)
SCORING_PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are"
    " seeing this error, you are likely using an outdated scoring request format. To resolve the"
    " error, either update your request format or adjust your MLflow Model's requirements file to"
    " specify an older version of MLflow (for example, change the 'mlflow' requirement specifier"
    " to 'mlflow==1.30.0'). If you are making a request using the MLflow client"
    " (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in"
    " order to use the new request format. For more information about the updated MLflow"
    " Model scoring protocol in MLflow 2.0, see"
    " https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)
BAD_REQUEST = "BAD_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
SCHEMA_ENFORCEMENT_FAILED = "SCHEMA_ENFORCEMENT_FAILED"
# MLflow 3 adds an error class and a SQLSTATE to every error (mlflow.error_classification).
_ERROR_CLASS = {BAD_REQUEST: INVALID_PARAMETER_VALUE, INVALID_PARAMETER_VALUE: INVALID_PARAMETER_VALUE,
                "RESOURCE_DOES_NOT_EXIST": "RESOURCE_NOT_FOUND"}
_SQLSTATE = {INVALID_PARAMETER_VALUE: "KAM00", SCHEMA_ENFORCEMENT_FAILED: "KAM01",
             "RESOURCE_NOT_FOUND": "KAM00"}


class ScoringError(Exception):
    """A request the server answers with an error (MLflow's shape and status code).

    Attributes:
        message: what was wrong.
        status: the HTTP status code.
        error_code: MLflow's error code (``BAD_REQUEST``, ...); None for a plain-text answer.
    """

    def __init__(self, message: str, status: int = 400, error_code: str | None = BAD_REQUEST,
                 error_class: str | None = None):
        super().__init__(message)
        self.message, self.status, self.error_code = message, status, error_code
        self.error_class = error_class or _ERROR_CLASS.get(error_code or "")

    def body(self) -> tuple[bytes, str]:
        """The response body and its media type."""
        if self.error_code is None:
            return self.message.encode(), "text/plain"
        payload: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.error_class:
            payload["sqlstate"] = _SQLSTATE.get(self.error_class, "KAM00")
            payload["error_class"] = self.error_class
        return json.dumps(payload).encode(), CONTENT_TYPE_JSON


def invalid_input(message: str) -> ScoringError:
    """MLflow's ``MlflowInvalidInputException``: a 400 whose message starts 'Invalid input.'."""
    return ScoringError(f"Invalid input. {message}")


@dataclass
class ParsedRequest:
    """A decoded ``/invocations`` body: the model's input and the inference params."""

    data: Any
    params: dict[str, Any] | None
    rows: int | None  # the number of rows when ``data`` is a DataFrame, else None


def parse_request(body: bytes, content_type: str | None) -> ParsedRequest:
    """Decode an ``/invocations`` body the way MLflow's scoring server does.

    Args:
        body: the raw request body.
        content_type: the ``Content-Type`` header (``application/json``, ``text/csv``, ...).

    Raises:
        ScoringError: 415 for an unsupported content type or charset, 400 for a bad payload.
    """
    mime, options = _content_type(content_type or "")
    if mime == CONTENT_TYPE_CSV:
        frame = _read_table(lambda: _pandas().read_csv(io.StringIO(_utf8(body))), "CSV",
                            "to_csv")
        return ParsedRequest(frame, None, len(frame))
    if mime == CONTENT_TYPE_PARQUET:
        frame = _read_table(lambda: _pandas().read_parquet(io.BytesIO(body)), "Parquet",
                            "to_parquet")
        return ParsedRequest(frame, None, len(frame))
    if mime != CONTENT_TYPE_JSON:
        raise ScoringError(
            "This predictor only supports the following content types:"
            f" Types: {CONTENT_TYPES}. Got '{content_type}'.", status=415, error_code=None)
    return _parse_json(body)


def _content_type(content_type: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in content_type.split(";")]
    options = {k: v for pair in parts[1:] for k, _, v in [pair.partition("=")]}
    if options.get("charset", "utf-8").lower() != "utf-8":
        raise ScoringError("The scoring server only supports UTF-8", status=415, error_code=None)
    unexpected = set(options) - {"charset"}
    if unexpected:
        raise ScoringError(
            f"Unrecognized content type parameters: {', '.join(unexpected)}. "
            f"{SCORING_PROTOCOL_CHANGE_INFO}", status=415, error_code=None)
    return parts[0], options


def _pandas():
    import pandas as pd

    return pd


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise invalid_input(f"Ensure that input is a valid UTF-8 encoded string. Error: '{ex!r}'") from None


def _read_table(read, what: str, method: str):
    try:
        return read()
    except Exception as e:
        raise ScoringError(
            f"Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            f"{what}-formatted Pandas DataFrame produced using the `pandas.DataFrame.{method}()` "
            f"method. Error: '{e}'"
        ) from None


def _parse_json(body: bytes) -> ParsedRequest:
    try:
        decoded = json.loads(body)
    except (json.decoder.JSONDecodeError, UnicodeDecodeError) as ex:
        raise invalid_input(  # MLflow shows the raw bytes, b'...'
            f"Ensure that input is a valid JSON formatted string. Error: '{ex!r}'\nInput: \n{body!s}\n"
        ) from None
    if isinstance(decoded, list):
        raise invalid_input(f"{REQUIRED_INPUT_FORMAT}. Received a list.")
    if not isinstance(decoded, dict):
        raise invalid_input(
            f"{REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(decoded)}.")
    params = decoded.get("params")
    data = {k: v for k, v in decoded.items() if k in SUPPORTED_FORMATS}
    if len(data) != 1:
        raise ScoringError(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {list(data)}. "
            f"{SCORING_PROTOCOL_CHANGE_INFO}")
    (fmt, value), = data.items()
    if fmt == DF_SPLIT:
        frame = _split_frame(value)
        return ParsedRequest(frame, params, len(frame))
    if fmt == DF_RECORDS:
        frame = _records_frame(value)
        return ParsedRequest(frame, params, len(frame))
    if fmt == INSTANCES and isinstance(value, list) and value and all(
            isinstance(v, dict) for v in value):
        frame = _records_frame(value)
        return ParsedRequest(frame, params, len(frame))
    return ParsedRequest(value, params, None)


def _records_frame(value: Any):
    if not isinstance(value, list):
        kind = "dictionary" if isinstance(value, dict) else f"type {type(value)}"
        raise invalid_input(f"Dataframe records format must be a list of records. Got {kind}.")
    try:
        return _pandas().DataFrame(data=value)
    except Exception as ex:
        raise invalid_input(
            "Provided dataframe_records field is not a valid dataframe representation in "
            f"'records' format. Error: '{ex}'") from None


def _split_frame(value: Any):
    if not isinstance(value, dict):
        kind = "list" if isinstance(value, list) else f"type {type(value)}"
        raise invalid_input(f"Dataframe split format must be a dictionary. Got {kind}.")
    keys = set(value)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise invalid_input(
            "Dataframe split format must have 'data' field and optionally 'columns' "
            f"and 'index' fields. Got {keys}.'")
    try:
        return _pandas().DataFrame(index=value.get("index"), columns=value.get("columns"),
                                   data=value["data"])
    except Exception as ex:
        raise invalid_input(
            "Provided dataframe_split field is not a valid dataframe representation in "
            f"'split' format. Error: '{ex}'") from None


def jsonable(value: Any) -> Any:
    """Turn predictions (array, DataFrame, Series, scalars) into JSON values, as MLflow does."""
    pd = _pandas()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return value.tolist()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return str(value)


def predictions_body(predictions: Any) -> bytes:
    """The success body, ``{"predictions": ...}``."""
    return json.dumps({"predictions": jsonable(predictions)}, default=_default,
                      allow_nan=True).encode()


def prediction_error(exc: BaseException, data: Any) -> ScoringError:
    """The error MLflow answers when ``predict`` raises.

    A kernelflow error (a signature mismatch, a bad param) is the caller's fault: 400 with
    the message, prefixed as MLflow does. Anything else is the model's own failure: MLflow's
    'unexpected error' 400, with the exception's message appended so it can be fixed.
    """
    from kernelflow import KernelflowError

    if isinstance(exc, KernelflowError):
        return ScoringError(f"Failed to predict data '{_short(data)}'. \nError: {exc}",
                            error_code=INVALID_PARAMETER_VALUE,
                            error_class=SCHEMA_ENFORCEMENT_FAILED)
    return ScoringError(
        "Encountered an unexpected error while evaluating the model. Verify that the serialized "
        "input Dataframe is compatible with the model for inference. "
        f"Error: {type(exc).__name__}: {exc}")


def cast_to_signature(parsed: ParsedRequest, signature: Any) -> None:
    """Convert text columns to the signature's numeric and boolean types, as MLflow's parser does.

    A value that does not convert is MLflow's 400: the column, the type and the error.
    Columns that already hold numbers are left to the model's own signature check.
    """
    inputs = getattr(signature, "inputs", None)
    if parsed.rows is None or inputs is None or getattr(inputs, "is_tensor_spec", True):
        return
    from kernelflow.models.signature import COLUMN_TYPES

    frame = parsed.data
    for spec in inputs.inputs:
        target = COLUMN_TYPES.get(spec.type)
        if spec.name not in frame.columns or spec.type not in _CASTABLE:
            continue
        column = frame[spec.name]
        if _pandas().api.types.is_numeric_dtype(column) or column.dtype == bool:
            continue  # numbers are left to the signature check
        try:
            frame[spec.name] = frame[spec.name].astype(target)
        except Exception as ex:  # noqa: BLE001 - any conversion failure is the caller's data
            raise invalid_input(
                "Data is not compatible with model signature. Failed to convert column "
                f"{spec.name} to type '{target}'. Error: '{ex!r}'") from None


_CASTABLE = {"boolean", "integer", "long", "float", "double"}


def _short(data: Any) -> str:
    text = str(data)
    return text if len(text) <= 2000 else text[:2000] + "..."


def is_finite_number(value: Any) -> bool:
    """True for a real, finite int or float (for option checks)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
