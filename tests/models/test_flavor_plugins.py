"""New flavors plug in through the same hook the built-in ones use."""

from __future__ import annotations

import json
import os

import pytest

import kernelflow
from kernelflow.models import Flavor, detect_flavor, flavors, register_flavor


class Lookup:
    """A toy 'framework': a dict from input to output."""

    def __init__(self, table):
        self.table = table


class LookupFlavor(Flavor):
    name = "lookup"
    packages = ()

    def accepts(self, model):
        return isinstance(model, Lookup)

    def save(self, model, path, input_example=None, **options):
        with open(os.path.join(path, "table.json"), "w") as fh:
            json.dump(model.table, fh)
        return {"data": "table.json"}

    def load(self, path, conf):
        with open(os.path.join(path, conf["data"])) as fh:
            return Lookup(json.load(fh))

    def predict(self, model, data, params=None, conf=None):
        return [model.table[str(x)] for x in data.ravel()]

    def loader_module(self):
        return "tests.lookup"


@pytest.fixture
def lookup_flavor():
    register_flavor(LookupFlavor())
    yield
    from kernelflow.models import flavor as registry

    registry._FLAVORS[:] = [f for f in registry._FLAVORS if f.name != "lookup"]


def test_builtin_flavors_are_registered_in_detection_order():
    assert [f.name for f in flavors()][-4:] == ["keras", "pytorch", "sklearn", "python_function"]


def test_plugin_flavor_saves_loads_and_predicts(lookup_flavor, tmp_path):
    model = Lookup({"1": "one", "2": "two"})
    assert detect_flavor(model).name == "lookup"
    info = kernelflow.save_model(model, str(tmp_path / "m"))
    assert info.flavors["python_function"]["loader_module"] == "tests.lookup"
    loaded = kernelflow.load_model(str(tmp_path / "m"))
    assert loaded.flavor == "lookup" and loaded.predict([[1], [2]]) == ["one", "two"]
