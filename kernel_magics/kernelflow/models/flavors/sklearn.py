"""The scikit-learn flavor: any estimator or pipeline, pickled."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ..flavor import Flavor, class_path
from . import _pickle

MODEL_FILE = "model.pkl"


class SklearnFlavor(Flavor):
    """Saves estimators with (cloud)pickle; predicts with ``predict`` or another method."""

    name = "sklearn"
    packages = ("scikit-learn",)

    def accepts(self, model: Any) -> bool:
        """True for scikit-learn estimators (anything deriving from BaseEstimator)."""
        return "sklearn.base.BaseEstimator" in class_path(model)

    def save(self, model: Any, path: str, input_example: Any = None, **options: Any) -> dict:
        """Pickle the estimator; ``pyfunc_predict_fn`` picks the method used by predict."""
        import sklearn

        fmt = _pickle.dump(model, os.path.join(path, MODEL_FILE))
        return {
            "pickled_model": MODEL_FILE,
            "serialization_format": fmt,
            "sklearn_version": sklearn.__version__,
            "pyfunc_predict_fn": options.get("pyfunc_predict_fn", "predict"),
            "code": None,
        }

    def load(self, path: str, conf: dict) -> Any:
        """Unpickle the estimator."""
        return _pickle.load(os.path.join(path, conf.get("pickled_model", MODEL_FILE)))

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """Call the configured predict method; drops column names the model never saw."""
        method = (params or {}).get("predict_method") or (conf or {}).get(
            "pyfunc_predict_fn", "predict"
        )
        if isinstance(data, pd.DataFrame) and not hasattr(model, "feature_names_in_"):
            data = data.to_numpy()  # fitted on an array: avoid sklearn's feature-name warning
        elif isinstance(data, list):
            data = np.asarray(data)
        return getattr(model, method)(data)
