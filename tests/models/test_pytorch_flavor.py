"""The PyTorch flavor: torch.export and TorchScript; loading needs no user class."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kernelflow  # noqa: E402
from kernelflow.errors import InvalidParameterError  # noqa: E402


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))

    def forward(self, x):
        return torch.softmax(self.layers(x), dim=-1)


@pytest.fixture(scope="module")
def net():
    return TinyNet().eval()


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((6, 4)).astype(np.float32)


def expected(net, x):
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def test_export_round_trip_with_free_batch_size(tmp_path, net, x):
    info = kernelflow.save_model(net, str(tmp_path / "m"), input_example=x[:2])
    assert info.flavors["pytorch"]["serialization"] == "export"
    model = kernelflow.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(model.predict(x), expected(net, x), rtol=1e-5)
    assert model.signature.inputs.inputs[0].shape == (-1, 4)
    reqs = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"torch=={torch.__version__.split('+')[0]}" in reqs


def test_torchscript_without_example(tmp_path, net, x):
    info = kernelflow.pytorch.save_model(net, str(tmp_path / "m"))
    assert info.flavors["pytorch"]["serialization"] == "torchscript"
    module = kernelflow.pytorch.load_model(str(tmp_path / "m"))
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), expected(net, x), rtol=1e-5)


def test_float64_input_is_cast_for_float32_weights(tmp_path, net, x):
    kernelflow.save_model(net, str(tmp_path / "m"), input_example=x[:2])
    out = kernelflow.load_model(str(tmp_path / "m")).predict(x.astype(np.float64).tolist())
    np.testing.assert_allclose(out, expected(net, x), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_array_of_another_dtype_is_refused(tmp_path, net, x, dtype):
    kernelflow.save_model(net, str(tmp_path / "m"), input_example=x[:2])
    model = kernelflow.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterError, match=f"dtype {np.dtype(dtype).name} .* expects dtype float32"):
        model.predict(x.astype(dtype))
    with pytest.raises(InvalidParameterError, match="dtype float64"):
        model.predict(torch.from_numpy(x.astype(np.float64)))


def test_wrong_shape_is_a_clear_error(tmp_path, net, x):
    kernelflow.save_model(net, str(tmp_path / "m"), input_example=x[:2])
    with pytest.raises(InvalidParameterError, match=r"shape \[2, 3\]"):
        kernelflow.load_model(str(tmp_path / "m")).predict(np.zeros((2, 3), dtype=np.float32))


def test_export_without_example_is_refused(tmp_path, net):
    with pytest.raises(InvalidParameterError, match="needs an input_example"):
        kernelflow.pytorch.save_model(net, str(tmp_path / "m"), serialization="export")


@pytest.mark.slow
def test_loads_in_a_process_without_the_class(tmp_path, net, x):
    kernelflow.save_model(net, str(tmp_path / "m"), input_example=x[:2])
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(
        f"""
        import numpy as np, kernelflow
        model = kernelflow.load_model({str(tmp_path / "m")!r})
        np.save({str(tmp_path / "out.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r})))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected(net, x), rtol=1e-5)
