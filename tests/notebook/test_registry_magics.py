"""%kf register / models / autolog and the registry widget, on the real registry."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError

import kernelflow as kf
from kernelflow.widgets.registry import RegistryBrowser

sklearn = pytest.importorskip("sklearn")


@pytest.fixture
def trained(shell):
    shell.run_cell(
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.datasets import load_iris\n"
        "X, y = load_iris(return_X_y=True)\n"
        "clf = LogisticRegression(max_iter=300).fit(X, y)"
    )
    return shell


def test_register_in_active_run_with_alias_then_load(trained, run_cell, capsys):
    result = run_cell("%%kf run --name fit --no-live\n%kf register clf iris --alias champion")
    assert result.success, result.error_in_exec
    run = kf.search_runs(output_format="list")[0]
    client = kf.Client()
    versions = client.search_model_versions("name = 'iris'")
    assert [v.version for v in versions] == ["1"] and versions[0].run_id == run.info.run_id
    assert client.get_registered_model("iris").aliases == {"champion": "1"}
    assert "models:/iris@champion" in capsys.readouterr().out
    model = kf.load_model("models:/iris@champion")
    X = trained.user_ns["X"]
    assert np.array_equal(model.predict(X[:5]), trained.user_ns["clf"].predict(X[:5]))


def test_register_without_run_starts_and_ends_one(trained):
    trained.run_line_magic("kf", "register clf iris")
    trained.run_line_magic("kf", "register clf iris")
    assert kf.active_run() is None
    versions = kf.Client().search_model_versions("name = 'iris'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    assert {r.info.status for r in kf.search_runs(output_format="list")} == {"FINISHED"}


def test_register_unknown_variable(shell):
    with pytest.raises(UsageError, match="no variable named 'nope'"):
        shell.run_line_magic("kf", "register nope m")


def test_models_widget_moves_alias_with_button(trained):
    for _ in range(2):
        trained.run_line_magic("kf", "register clf iris")
    browser = trained.run_line_magic("kf", "models iris")
    assert isinstance(browser, RegistryBrowser)
    assert browser.version_box.options == ("2", "1")
    browser.alias_box.value = "champion"
    browser.version_box.value = "1"
    browser.set_button.click()
    assert kf.Client().get_registered_model("iris").aliases == {"champion": "1"}
    assert "@champion" in browser.versions.value
    browser.version_box.value = "2"
    browser.set_button.click()
    assert kf.Client().get_registered_model("iris").aliases == {"champion": "2"}
    assert "champion → version 2" in browser.message.value
    browser.delete_button.click()
    assert kf.Client().get_registered_model("iris").aliases == {}


def test_models_widget_shows_error_for_bad_alias(trained):
    trained.run_line_magic("kf", "register clf iris")
    browser = RegistryBrowser("iris")
    assert browser.set_alias("bad alias!", "1") is False
    assert "--jp-error-color1" in browser.message.value and "Invalid alias" in browser.message.value


def test_models_unknown_name_is_usage_error(shell):
    with pytest.raises(UsageError, match="%kf models"):
        shell.run_line_magic("kf", "models ghost")


def test_models_empty_registry(shell):
    browser = shell.run_line_magic("kf", "models")
    assert "No registered models yet" in browser.overview.value


def test_autolog_sklearn_logs_fit(shell, capsys):
    shell.run_line_magic("kf", "autolog sklearn")
    try:
        assert "autologging on for sklearn" in capsys.readouterr().out
        shell.run_cell(
            "from sklearn.linear_model import LinearRegression\n"
            "LinearRegression().fit([[0], [1], [2]], [0, 1, 2])"
        )
        runs = kf.search_runs(output_format="list")
        assert len(runs) == 1 and runs[0].data.params
    finally:
        shell.run_line_magic("kf", "autolog sklearn --off")
    shell.run_cell("LinearRegression().fit([[0], [1]], [0, 1])")
    assert len(kf.search_runs(output_format="list")) == 1


# -- %kf register checks everything before logging ---------------------------------
def _nothing_logged():
    client = kf.Client()
    assert kf.active_run() is None
    assert kf.search_runs(output_format="list", search_all_experiments=True) == []
    assert client.search_registered_models() == []


def test_register_object_without_flavor_logs_nothing(shell):
    shell.run_cell("x = 5")
    with pytest.raises(UsageError, match="does not know how to save a builtins.int"):
        shell.run_line_magic("kf", "register x m")
    _nothing_logged()


def test_register_bad_model_name_logs_nothing(trained):
    with pytest.raises(UsageError, match="Invalid registered model name 'bad/name'"):
        trained.run_line_magic("kf", "register clf bad/name")
    _nothing_logged()


@pytest.mark.parametrize("alias", ["v3", "latest", "no spaces"])
def test_register_bad_alias_logs_and_registers_nothing(trained, alias):
    with pytest.raises(UsageError, match="(?i)alias"):
        trained.run_line_magic("kf", f"register clf good --alias '{alias}'")
    _nothing_logged()


def test_register_failing_after_its_run_exists_ends_it_failed(trained, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("KERNELFLOW_ARTIFACT_ROOT", str(tmp_path / "a-file" / "artifacts"))
    trained.run_line_magic("kf", "experiment unwritable")
    with pytest.raises(UsageError, match="ended FAILED"):
        trained.run_line_magic("kf", "register clf m")
    assert kf.active_run() is None
    [run] = kf.search_runs(output_format="list", search_all_experiments=True)
    assert run.info.status == "FAILED" and "Not a directory" in run.data.tags["kernelflow.error"]
    assert kf.Client().search_model_versions("name = 'm'") == []


def test_register_failing_in_the_users_run_leaves_it_active(trained, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("KERNELFLOW_ARTIFACT_ROOT", str(tmp_path / "a-file" / "artifacts"))
    trained.run_line_magic("kf", "experiment unwritable")
    run = kf.start_run(run_name="mine")
    with pytest.raises(UsageError, match="could not log"):
        trained.run_line_magic("kf", "register clf m")
    assert kf.active_run().info.run_id == run.info.run_id
