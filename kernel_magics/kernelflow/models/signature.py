"""Model signatures: what a model takes and returns, and checking input against it.

A signature is MLflow's: a :class:`Schema` of named, typed columns
(:class:`ColSpec`) or of tensors with a dtype and shape (:class:`TensorSpec`),
for the inputs and the outputs. It is stored in the metadata file as MLflow's
JSON, so signatures written by MLflow read here and the other way round.

``Schema.enforce(data)`` turns user input (a DataFrame, a numpy array, a list
or a dict) into what the model expects, or raises an
:class:`~kernelflow.errors.InvalidParameterError` naming the column at fault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

# MLflow's column types and the numpy dtype each one holds.
COLUMN_TYPES: dict[str, Any] = {
    "boolean": np.dtype(bool),
    "integer": np.dtype(np.int32),
    "long": np.dtype(np.int64),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
    "string": np.dtype(object),
    "binary": np.dtype(object),
    "datetime": np.dtype("datetime64[ns]"),
    "any": np.dtype(object),
}


@dataclass(frozen=True)
class ColSpec:
    """One named, typed column of a tabular input or output."""

    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form of the column."""
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """A tensor input or output: numpy dtype and shape (-1 for any size)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form of the tensor."""
        out: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass
class Schema:
    """An ordered list of column specs, or of tensor specs (never a mix)."""

    inputs: list[ColSpec | TensorSpec] = field(default_factory=list)

    @property
    def is_tensor_spec(self) -> bool:
        """True when the schema describes tensors rather than columns."""
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def input_names(self) -> list[str]:
        """Column or tensor names, in order (unnamed entries are skipped)."""
        return [s.name for s in self.inputs if s.name is not None]

    def to_json(self) -> str:
        """Return the schema as MLflow's JSON string."""
        return json.dumps([s.to_dict() for s in self.inputs])

    @classmethod
    def from_json(cls, text: str | list) -> Schema:
        """Read MLflow's JSON form (a string or the parsed list)."""
        items = json.loads(text) if isinstance(text, str) else text
        specs: list[ColSpec | TensorSpec] = []
        for item in items:
            if item.get("type") == "tensor":
                ts = item["tensor-spec"]
                specs.append(TensorSpec(ts["dtype"], tuple(ts["shape"]), item.get("name")))
            else:
                specs.append(ColSpec(item["type"], item.get("name"), item.get("required", True)))
        return cls(specs)

    def enforce(self, data: Any) -> Any:
        """Check ``data`` against the schema and return it in the model's form.

        Returns a DataFrame for a column schema, a numpy array for a tensor
        schema. Raises InvalidParameterError naming the column (or the shape)
        that does not fit.
        """
        if self.is_tensor_spec:
            return _enforce_tensor(self.inputs[0], data)  # type: ignore[arg-type]
        return _enforce_columns(self.inputs, data)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return " | ".join(_describe(s) for s in self.inputs) or "(empty)"


def _describe(spec: ColSpec | TensorSpec) -> str:
    if isinstance(spec, TensorSpec):
        return f"{spec.name or 'tensor'}: {spec.dtype}{list(spec.shape)}"
    return f"{spec.name}: {spec.type}" if spec.name else spec.type


@dataclass
class ModelSignature:
    """The inputs a model accepts, the outputs it returns, and optional params."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the signature as stored in the metadata file (MLflow's layout)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": json.dumps(self.params) if self.params else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        """Read the metadata file's form (MLflow's or ours)."""
        params = data.get("params")
        return cls(
            inputs=Schema.from_json(data["inputs"]) if data.get("inputs") else None,
            outputs=Schema.from_json(data["outputs"]) if data.get("outputs") else None,
            params=json.loads(params) if isinstance(params, str) else params,
        )

    def __repr__(self) -> str:
        return f"ModelSignature(inputs={self.inputs!r}, outputs={self.outputs!r})"


# -- inference ---------------------------------------------------------------


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict | None = None
) -> ModelSignature:
    """Infer a signature from an input example and, optionally, its prediction.

    Args:
        model_input: A DataFrame, numpy array, list or dict shaped like the
            model's input.
        model_output: What the model returned for ``model_input``.
        params: Inference parameters with their default values.

    Returns:
        A ModelSignature; a part is None when its example is None.
    """
    param_specs = None
    if params:
        param_specs = [
            {"name": k, "type": _python_type(v), "default": v, "shape": None}
            for k, v in params.items()
        ]
    return ModelSignature(
        inputs=infer_schema(model_input) if model_input is not None else None,
        outputs=infer_schema(model_output) if model_output is not None else None,
        params=param_specs,
    )


def infer_schema(data: Any) -> Schema:
    """Infer a Schema from example data (columns for tables, a tensor otherwise)."""
    data = as_frame_or_array(data)
    if isinstance(data, pd.DataFrame):
        return Schema([ColSpec(_column_type(data[c]), str(c)) for c in data.columns])
    if isinstance(data, pd.Series):
        return Schema([ColSpec(_column_type(data), None if data.name is None else str(data.name))])
    arr = np.asarray(data)
    if arr.dtype == object:
        return Schema([ColSpec(_column_type(pd.Series(arr.ravel())))])
    shape = (-1, *arr.shape[1:]) if arr.ndim >= 1 else ()
    return Schema([TensorSpec(str(arr.dtype), tuple(int(d) for d in shape))])


def as_frame_or_array(data: Any) -> Any:
    """Turn lists, dicts and tensors into a DataFrame or numpy array.

    Raises:
        InvalidParameterError: a dict or list with no table or array shape
            (2-D arrays as dict values, rows of different lengths).
    """
    if isinstance(data, (pd.DataFrame, pd.Series, np.ndarray)):
        return data
    if hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        return data.detach().cpu().numpy()
    try:
        return _convert(data)
    except ValueError as exc:
        kind = "dict" if isinstance(data, dict) else type(data).__name__
        raise InvalidParameterError(
            f"Model input is a {kind} that makes no table or array: {exc}. Pass a DataFrame, "
            "a numpy array, a list of equal-length rows, or a dict of column -> 1-D values."
        ) from exc


def _convert(data: Any) -> Any:
    if isinstance(data, dict):
        if all(np.ndim(v) == 0 for v in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame(data)
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(row, dict) for row in data):
            return pd.DataFrame(list(data))
        return np.asarray(data)
    return np.asarray(data)


def _python_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _column_type(col: pd.Series) -> str:
    kind = col.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if col.dtype.itemsize >= 8 or kind == "u" else "integer"
    if kind == "f":
        return "float" if col.dtype.itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    values = col.dropna()
    if len(values) and all(isinstance(v, str) for v in values):
        return "string"
    if len(values) and all(isinstance(v, (bytes, bytearray)) for v in values):
        return "binary"
    if pd.api.types.is_string_dtype(col.dtype) and not len(values):
        return "string"
    return "any"


# -- enforcement -------------------------------------------------------------


def _enforce_columns(specs: list[ColSpec], data: Any) -> pd.DataFrame:
    names = [s.name for s in specs if s.name is not None]
    frame = _to_frame(data, names)
    if not names:  # unnamed columns: only the count can be checked
        if frame.shape[1] != len(specs):
            raise InvalidParameterError(
                f"Model input has {frame.shape[1]} columns but the model's signature "
                f"expects {len(specs)}."
            )
        return frame
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    required = [s.name for s in specs if s.required and s.name is not None]
    missing = [n for n in required if n not in columns]
    if missing:
        raise InvalidParameterError(
            f"Model input is missing column {missing[0]!r}"
            + (f" (and {len(missing) - 1} more: {missing[1:]})" if len(missing) > 1 else "")
            + f". The model's signature expects columns {names}."
        )
    extra = [c for c in columns if c not in names]
    if extra:
        raise InvalidParameterError(
            f"Model input has unexpected column {extra[0]!r}. The model's signature "
            f"accepts only {names}; drop the extra columns or fix their names."
        )
    out = {}
    for spec in specs:
        if spec.name in columns:
            out[spec.name] = _enforce_column(spec, frame[spec.name])
    return pd.DataFrame(out, index=frame.index)


def _to_frame(data: Any, names: list[str]) -> pd.DataFrame:
    data = as_frame_or_array(data)
    if isinstance(data, pd.DataFrame):
        return data.copy()
    if isinstance(data, pd.Series):
        return data.to_frame()
    arr = np.asarray(data)
    if arr.ndim == 1 and names and len(names) == arr.shape[0]:
        arr = arr.reshape(1, -1)  # one row given as a flat list
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InvalidParameterError(
            f"Model input is an array of shape {arr.shape}, but the model takes a table "
            f"with columns {names}. Pass a DataFrame, a dict or a 2-D array."
        )
    if names and arr.shape[1] != len(names):
        raise InvalidParameterError(
            f"Model input has {arr.shape[1]} columns but the model's signature expects "
            f"{len(names)}: {names}. Pass a DataFrame to name the columns."
        )
    return pd.DataFrame(arr, columns=names or None)


def _enforce_column(spec: ColSpec, col: pd.Series) -> pd.Series:
    want = spec.type
    if want == "any":
        return col
    kind = col.dtype.kind
    if kind == "O":
        col = _infer_object_column(col)
        kind = col.dtype.kind
    ok = {
        "boolean": kind == "b",
        "integer": kind in "iu",
        "long": kind in "iu",
        "float": kind in "iuf",
        "double": kind in "iuf",
        "datetime": kind == "M",
        "string": kind in "OUT" and _all_instances(col, str),
        "binary": kind == "O" and _all_instances(col, (bytes, bytearray)),
    }.get(want, True)
    if want in ("integer", "long") and kind == "f" and _integral(col):
        ok = True  # 3.0 from JSON is a fine 3
    if not ok:
        sample = col.dropna().iloc[0] if col.notna().any() else None
        raise InvalidParameterError(
            f"Model input column {spec.name!r} has type {_column_type(col)} "
            f"(e.g. {sample!r}) but the model's signature expects {want}."
        )
    if want in ("string", "binary", "datetime"):
        return col
    return col.astype(COLUMN_TYPES[want])


def _infer_object_column(col: pd.Series) -> pd.Series:
    values = col.dropna()
    if len(values) and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values
    ):
        return pd.to_numeric(col)
    if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
        return col.astype(bool)
    return col


def _all_instances(col: pd.Series, types: Any) -> bool:
    return all(isinstance(v, types) for v in col.dropna())


def _integral(col: pd.Series) -> bool:
    values = col.dropna().to_numpy()
    return bool(np.all(np.mod(values, 1) == 0))


def _enforce_tensor(spec: TensorSpec, data: Any) -> np.ndarray:
    """Check a tensor input as MLflow's ``_enforce_tensor_spec``: shape, then exact dtype.

    Arrays, tensors and DataFrames carry a dtype, and a different one is an
    error (never a silent cast). Lists and dicts (JSON) carry none: their
    values are converted to the signature's dtype when they fit exactly.
    """
    typed = _has_dtype(data)
    arr = _tensor_array(spec, data)
    want = np.dtype(spec.dtype)
    shape = tuple(spec.shape)
    fits = arr.ndim == len(shape) and all(
        w in (-1, None) or w == g for w, g in zip(shape, arr.shape, strict=False)
    )
    if not fits:
        raise InvalidParameterError(
            f"Model input has shape {list(arr.shape)} but the model's signature expects "
            f"{list(shape)} (-1 means any size)."
        )
    if _same_dtype(arr.dtype, want):
        return arr
    converted = None if typed else _convert_untyped(arr, want)
    if converted is None:
        raise InvalidParameterError(
            f"Model input has dtype {arr.dtype.name} and shape {list(arr.shape)}, but the "
            f"model's signature expects dtype {want.name} and shape {list(shape)}. Convert "
            f"it first, e.g. x.astype({want.name!r}); inputs are not cast silently."
        )
    return converted


def _has_dtype(data: Any) -> bool:
    return isinstance(data, (np.ndarray, np.generic, pd.DataFrame, pd.Series)) or (
        hasattr(data, "dtype") and hasattr(data, "detach")  # a torch tensor
    )


def _tensor_array(spec: TensorSpec, data: Any) -> np.ndarray:
    if isinstance(data, dict):
        if spec.name is None or set(data) != {spec.name}:
            takes = f"a dict {{{spec.name!r}: array}} or " if spec.name else ""
            raise InvalidParameterError(
                f"Model input is a dict with keys {sorted(map(str, data))}, but the model takes "
                f"one tensor ({_describe(spec)}): pass {takes}a numpy array."
            )
        data = data[spec.name]
    data = as_frame_or_array(data)
    if isinstance(data, (pd.DataFrame, pd.Series)):
        data = data.to_numpy()
    return np.asarray(data)


def _same_dtype(got: np.dtype, want: np.dtype) -> bool:
    # As MLflow's clean_tensor_type: strings and bytes match whatever their length.
    return got == want or (got.kind == want.kind and got.kind in "US")


def _convert_untyped(arr: np.ndarray, want: np.dtype) -> np.ndarray | None:
    """``arr`` (built from a list) as ``want``, or None when a value would change."""
    if arr.dtype.kind not in "biuf" or want.kind not in "biuf":
        return None
    if want.kind == "f":
        return arr.astype(want)  # JSON numbers have no width; floats are as close as they get
    with np.errstate(all="ignore"):
        out = arr.astype(want)
    return out if np.array_equal(out, arr) else None
