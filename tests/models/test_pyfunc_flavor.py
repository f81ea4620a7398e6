"""Python-function models: plain functions and PythonModel subclasses with artifacts."""

from __future__ import annotations

import pandas as pd
import pytest

import kernelflow
from kernelflow.errors import InvalidParameterError
from kernelflow.models.signature import infer_signature


class Prefixer(kernelflow.PythonModel):
    """Reads a prefix from an artifact file and prepends it."""

    def load_context(self, context):
        with open(context.artifacts["prefix"]) as fh:
            self.prefix = fh.read().strip()
        self.sep = context.model_config.get("sep", "")

    def predict(self, context, model_input, params=None):
        upper = (params or {}).get("upper", False)
        out = [self.prefix + self.sep + str(t) for t in model_input["text"]]
        return [s.upper() for s in out] if upper else out


class NoContext(kernelflow.PythonModel):
    """MLflow 3 style: predict without the context argument."""

    def predict(self, model_input, params=None):
        return list(model_input["x"] * 10)


def test_python_model_with_artifacts_round_trips(tmp_path):
    prefix = tmp_path / "prefix.txt"
    prefix.write_text("hi")
    kernelflow.pyfunc.save_model(
        str(tmp_path / "m"), python_model=Prefixer(), artifacts={"prefix": str(prefix)},
        model_config={"sep": "-"}, input_example=pd.DataFrame({"text": ["a"]}),
    )
    prefix.unlink()  # the model must use its own copy
    model = kernelflow.load_model(str(tmp_path / "m"))
    assert model.predict(pd.DataFrame({"text": ["a", "b"]})) == ["hi-a", "hi-b"]
    assert model.predict({"text": "c"}) == ["hi-c"]
    assert isinstance(model.unwrap(), Prefixer)


def test_params_declared_in_the_signature_are_checked(tmp_path):
    prefix = tmp_path / "p.txt"
    prefix.write_text(">")
    sig = infer_signature(pd.DataFrame({"text": ["a"]}), ["x"], params={"upper": False})
    kernelflow.pyfunc.save_model(str(tmp_path / "m"), python_model=Prefixer(),
                                 artifacts={"prefix": str(prefix)}, signature=sig)
    model = kernelflow.load_model(str(tmp_path / "m"))
    assert model.predict({"text": ["a"]}, params={"upper": True}) == [">A"]
    assert model.predict({"text": ["a"]}) == [">a"]
    with pytest.raises(InvalidParameterError, match="Unknown inference parameter 'colour'"):
        model.predict({"text": ["a"]}, params={"colour": "red"})


def test_predict_without_context_argument(tmp_path):
    kernelflow.save_model(NoContext(), str(tmp_path / "m"))
    assert kernelflow.load_model(str(tmp_path / "m")).predict(pd.DataFrame({"x": [1, 2]})) == [10, 20]


def test_plain_function_and_lambda(tmp_path):
    kernelflow.save_model(lambda df: df["x"] + 1, str(tmp_path / "lam"),
                          input_example=pd.DataFrame({"x": [1]}))
    out = kernelflow.load_model(str(tmp_path / "lam")).predict({"x": [1, 2]})
    assert list(out) == [2, 3]


def test_missing_artifact_is_an_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="Artifact 'w' points at .* does not exist"):
        kernelflow.pyfunc.save_model(str(tmp_path / "m"), python_model=Prefixer(),
                                     artifacts={"w": str(tmp_path / "nope")})


def test_artifact_can_be_a_model_uri(tracking_uri, tmp_path):
    with kernelflow.start_run():
        inner = kernelflow.log_model(lambda df: df, "inner")

    class Wrapper(kernelflow.PythonModel):
        def load_context(self, context):
            self.inner = kernelflow.load_model(context.artifacts["inner"])

        def predict(self, context, model_input, params=None):
            return self.inner.predict(model_input)

    kernelflow.pyfunc.save_model(str(tmp_path / "w"), python_model=Wrapper(),
                                 artifacts={"inner": inner.model_uri})
    out = kernelflow.load_model(str(tmp_path / "w")).predict(pd.DataFrame({"a": [1]}))
    assert out["a"].tolist() == [1]


def test_pyfunc_log_model_needs_a_model(tracking_uri):
    with pytest.raises(InvalidParameterError, match="needs python_model"):
        kernelflow.pyfunc.log_model("m")


def test_missing_module_at_load_says_what_to_install(tmp_path, monkeypatch):
    import sys

    from kernelflow.errors import KernelflowError

    (tmp_path / "kf_vanishing_mod.py").write_text(
        "import kernelflow\n"
        "class Model(kernelflow.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import kf_vanishing_mod

    kernelflow.save_model(kf_vanishing_mod.Model(), str(tmp_path / "m"))
    monkeypatch.delitem(sys.modules, "kf_vanishing_mod")
    (tmp_path / "kf_vanishing_mod.py").unlink()
    with pytest.raises(KernelflowError, match="needs the Python module 'kf_vanishing_mod'.*requirements.txt"):
        kernelflow.load_model(str(tmp_path / "m"))
