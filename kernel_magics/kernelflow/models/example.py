"""Input examples: stored beside the model as JSON, in MLflow's layout.

A table is stored as pandas' ``split`` orient (``{"columns": [...], "data": [...]}``),
an array as ``{"inputs": [...]}`` with its dtype, so the example can be read back
with the same column names and types and sent to a scoring server unchanged.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from .signature import as_frame_or_array

EXAMPLE_FILE = "input_example.json"
MAX_ROWS = 20


def save_input_example(example: Any, model_dir: str) -> dict[str, Any]:
    """Write ``example`` (at most MAX_ROWS rows) to the model directory.

    Returns:
        The ``saved_input_example_info`` entry of the metadata file.
    """
    data = as_frame_or_array(example)
    path = os.path.join(model_dir, EXAMPLE_FILE)
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        frame = data.head(MAX_ROWS)
        body = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
        info = {"type": "dataframe", "pandas_orient": "split"}
        info["dtypes"] = {str(c): str(t) for c, t in frame.dtypes.items()}  # type: ignore[assignment]
    else:
        arr = np.asarray(data)[:MAX_ROWS] if np.ndim(data) else np.asarray(data)
        body = {"inputs": arr.tolist()}
        info = {"type": "ndarray", "format": "tf-serving", "dtype": str(arr.dtype)}
    with open(path, "w") as fh:
        json.dump(body, fh)
    return {"artifact_path": EXAMPLE_FILE, **info}


def load_input_example(model_dir: str, info: dict[str, Any] | None) -> Any:
    """Read the input example back (a DataFrame or numpy array), or None."""
    if not info:
        return None
    path = os.path.join(model_dir, info.get("artifact_path", EXAMPLE_FILE))
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        body = json.load(fh)
    if info.get("type") == "dataframe":
        if "dataframe_split" in body:  # newer MLflow wraps the payload
            body = body["dataframe_split"]
        frame = pd.DataFrame(body.get("data", []), columns=body.get("columns"))
        for col, dtype in (info.get("dtypes") or {}).items():
            if col in frame.columns and not dtype.startswith(("object", "str")):
                frame[col] = frame[col].astype(dtype)
        return frame
    inputs = body.get("inputs", body) if isinstance(body, dict) else body
    if isinstance(inputs, dict):  # several named tensors
        return {k: np.asarray(v) for k, v in inputs.items()}
    return np.asarray(inputs, dtype=info.get("dtype"))
