"""``PyFuncModel``: the generic model ``load_model`` returns, whatever its flavor."""

from __future__ import annotations

import html
from typing import Any

from ..errors import InvalidParameterError
from .example import load_input_example
from .flavor import Flavor
from .metadata import ModelMetadata
from .signature import ModelSignature, as_frame_or_array


class PyFuncModel:
    """A loaded model with one ``predict`` for every flavor.

    ``predict`` takes a pandas DataFrame, a numpy array, a list or a dict,
    checks it against the model's signature when there is one, and runs the
    native model. ``unwrap()`` returns the native object (an estimator, a
    ``torch.nn.Module``, a Keras model, your PythonModel or function).
    """

    def __init__(
        self, native: Any, flavor: Flavor, conf: dict, metadata: ModelMetadata, model_dir: str
    ) -> None:
        self._native = native
        self._flavor = flavor
        self._conf = conf
        self.metadata = metadata
        self.model_dir = model_dir

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, or None when it was saved without one."""
        return self.metadata.signature

    @property
    def flavor(self) -> str:
        """The name of the flavor the model was loaded with."""
        return self._flavor.name

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, or None."""
        return load_input_example(self.model_dir, self.metadata.saved_input_example_info)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data``.

        Args:
            data: A DataFrame, numpy array, list (of rows or of dicts) or dict
                (column -> value or column -> list of values).
            params: Inference parameters; checked against the signature's
                params when it declares any.

        Returns:
            What the native model returns (usually a numpy array).

        Raises:
            InvalidParameterError: ``data`` misses a column, has an extra one,
                a wrong type or shape, or is no table or array; ``params`` is
                not a dict or has an unknown key.
        """
        sig = self.signature
        if sig is not None and sig.inputs is not None and sig.inputs.inputs:
            data = sig.inputs.enforce(data)
        elif isinstance(data, (list, tuple, dict)):
            data = as_frame_or_array(data)
        return self._flavor.predict(self._native, data, self._params(params), self._conf)

    def _params(self, params: dict[str, Any] | None) -> dict[str, Any] | None:
        if params is not None and not isinstance(params, dict):
            raise InvalidParameterError(
                f"params must be a dict of inference parameters (name -> value), not {params!r:.60}."
            )
        declared = (self.signature.params if self.signature else None) or []
        if not declared:
            return params
        defaults = {p["name"]: p.get("default") for p in declared}
        unknown = sorted(set(params or {}) - set(defaults))
        if unknown:
            raise InvalidParameterError(
                f"Unknown inference parameter {unknown[0]!r}; this model accepts "
                f"{sorted(defaults)}."
            )
        return {**defaults, **(params or {})}

    def unwrap(self) -> Any:
        """Return the native model object."""
        return self._native

    def get_raw_model(self) -> Any:
        """MLflow's name for :meth:`unwrap`."""
        return self._native

    def unwrap_python_model(self) -> Any:
        """MLflow's name for :meth:`unwrap` on PythonModel-based models."""
        return self._native

    def _repr_html_(self) -> str:
        esc = html.escape
        meta = self.metadata
        rows = [
            ("flavor", self.flavor),
            ("model", type(self._native).__qualname__),
            ("run", meta.run_id or "—"),
            ("created (UTC)", meta.utc_time_created),
            ("path", self.model_dir),
        ]
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
        sig = self.signature
        if sig is not None and sig.inputs is not None:
            body += f"<tr><th>inputs</th><td><code>{esc(repr(sig.inputs))}</code></td></tr>"
        if sig is not None and sig.outputs is not None:
            body += f"<tr><th>outputs</th><td><code>{esc(repr(sig.outputs))}</code></td></tr>"
        return f"<table class='kernelflow-model'>{body}</table>"

    def __repr__(self) -> str:
        where = f"run_id={self.metadata.run_id}" if self.metadata.run_id else self.model_dir
        return (
            f"<PyFuncModel flavor={self.flavor} {type(self._native).__qualname__} {where}"
            f" signature={self.signature!r}>"
        )
