"""The model, registry and autolog modules never import a framework at import time."""

from __future__ import annotations

import subprocess
import sys


def test_importing_models_registry_autolog_stays_light():
    script = (
        "import sys, kernelflow, kernelflow.models, kernelflow.registry, kernelflow.autolog, "
        "kernelflow.sklearn, kernelflow.pytorch, kernelflow.keras, kernelflow.pyfunc\n"
        "kernelflow.autolog.autolog()\n"
        "heavy = [m for m in ('torch', 'sklearn', 'keras', 'lightning', 'mlflow') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names_exist():
    import kernelflow

    for name in ("log_model", "save_model", "load_model", "ModelInfo", "PythonModel",
                 "register_model", "autolog"):
        assert callable(getattr(kernelflow, name)) or isinstance(getattr(kernelflow, name), type)
    for module in ("sklearn", "pytorch", "keras", "pyfunc"):
        flavor = getattr(kernelflow, module)
        assert callable(flavor.log_model) and callable(flavor.load_model)
