"""Choosing how to load a model directory: kernelflow's own, or one made by MLflow.

kernelflow directories name a ``kernelflow.*`` loader module. MLflow ones name
``mlflow.*``: a pickled ``sklearn`` flavor is read natively, so existing
MLflow scikit-learn models need no MLflow install; every other MLflow flavor
(and skops-serialized scikit-learn, MLflow 3's default) goes through
``mlflow.pyfunc`` when MLflow is installed. kernelflow still checks the
input against the signature first, with its own error messages.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ..errors import InvalidParameterError
from .flavor import Flavor, flavors, get_flavor
from .metadata import PYFUNC, ModelMetadata


class MlflowPyfuncFlavor(Flavor):
    """Runs an MLflow-made model through ``mlflow.pyfunc`` (needs mlflow installed)."""

    name = "mlflow_pyfunc"
    packages = ("mlflow",)

    def accepts(self, model: Any) -> bool:
        """Never chosen for saving."""
        return False

    def load(self, path: str, conf: dict) -> Any:
        """``mlflow.pyfunc.load_model(path)``."""
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(path)

    def predict(
        self, model: Any, data: Any, params: dict | None = None, conf: dict | None = None
    ) -> Any:
        """MLflow's own predict (it enforces the signature itself)."""
        return model.predict(data, params=params) if params else model.predict(data)


def flavor_for(meta: ModelMetadata, model_dir: str) -> tuple[Flavor, dict]:
    """Return the flavor that loads this directory and its metadata entry.

    Raises:
        InvalidParameterError: the model cannot be loaded here, saying what to install.
    """
    pyfunc = meta.flavors.get(PYFUNC) or {}
    loader = str(pyfunc.get("loader_module", ""))
    for flavor in flavors():
        if flavor.loader_module() == loader:
            return flavor, {**pyfunc, **(meta.flavors.get(flavor.name) or {})}
    sk = meta.flavors.get("sklearn") or {}
    pickled = sk.get("serialization_format", "pickle") in ("pickle", "cloudpickle")
    if loader == "mlflow.sklearn" and sk.get("pickled_model") and pickled:
        predict_fn = pyfunc.get("predict_fn", "predict")
        return get_flavor("sklearn"), {**sk, "pyfunc_predict_fn": predict_fn}
    if meta.made_by_mlflow and importlib.util.find_spec("mlflow") is not None and pyfunc:
        return MlflowPyfuncFlavor(), pyfunc
    found = ", ".join(meta.flavors) or "none"
    if meta.made_by_mlflow and pyfunc:
        raise InvalidParameterError(
            f"The model at {model_dir} was saved by MLflow with loader {loader!r} "
            f"(flavors: {found}); loading it needs MLflow: pip install mlflow."
        )
    raise InvalidParameterError(
        f"The model at {model_dir} has no flavor kernelflow can load (flavors: {found}, "
        f"loader {loader or 'none'!r}). Install the package that saved it, or re-save it "
        "with kernelflow.save_model."
    )


def native_flavor_conf(meta: ModelMetadata, flavor_name: str, model_dir: str) -> dict:
    """The metadata entry of ``flavor_name``, for the flavor modules' ``load_model``.

    Raises:
        InvalidParameterError: the model was not saved with that flavor.
    """
    conf = meta.flavors.get(flavor_name)
    if conf is None:
        found = ", ".join(meta.flavors) or "none"
        raise InvalidParameterError(
            f"The model at {model_dir} has no {flavor_name!r} flavor (it has: {found}). "
            "Load it with kernelflow.load_model() instead."
        )
    return conf
