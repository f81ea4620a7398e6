"""Issue 16.5: `%kf register` links the run that trained the model; the registry widget's defaults."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import kernelflow as kf
from kernelflow.widgets.registry import RegistryBrowser, versions_html

pytest.importorskip("sklearn")

FIT = ("from sklearn.linear_model import LogisticRegression\n"
       "from sklearn.datasets import load_iris\n"
       "X, y = load_iris(return_X_y=True)\n"
       "clf = LogisticRegression(max_iter=300).fit(X, y)")


def run_id(name):
    return next(r.info.run_id for r in kf.search_runs(output_format="list") if r.info.run_name == name)


def version_run(model="iris", version="1"):
    return kf.Client().get_model_version(model, version).run_id


def test_register_after_kf_run_cell_links_the_training_run(run_cell):
    assert run_cell(f"%%kf run --name train --no-live\n{FIT}").success
    assert run_cell("x = 1").success  # an unrelated cell in between
    assert run_cell("%kf register clf iris").success
    assert version_run() == run_id("train")
    assert len(kf.search_runs(output_format="list")) == 1  # no new, empty run
    assert kf.active_run() is None


def test_register_picks_the_run_that_set_the_variable_not_the_last(run_cell):
    assert run_cell(f"%%kf run --name first --no-live\n{FIT}").success
    assert run_cell("%%kf run --name second --no-live\nkf.log_metric('m', 1.0)").success
    assert run_cell("%kf register clf iris").success
    assert version_run() == run_id("first")


def test_register_a_variable_set_outside_a_run_uses_the_last_kernel_run(run_cell):
    assert run_cell("%%kf run --name last --no-live\nkf.log_metric('m', 1.0)").success
    assert run_cell(FIT).success
    assert run_cell("%kf register clf iris").success
    assert version_run() == run_id("last")


def test_register_with_explicit_run(run_cell):
    assert run_cell("%%kf run --name chosen --no-live\nkf.log_metric('m', 1.0)").success
    assert run_cell(f"%%kf run --name other --no-live\n{FIT}").success
    chosen = run_id("chosen")
    assert run_cell(f"%kf register clf iris --run {chosen}").success
    assert version_run() == chosen


def test_register_with_unknown_run_is_a_clear_error(shell):
    shell.run_cell(FIT)
    with pytest.raises(UsageError, match="no run with id 'nope'"):
        shell.run_line_magic("kf", "register clf iris --run nope")
    assert kf.Client().search_model_versions("name = 'iris'") == []


def test_registry_widget_starts_on_newest_version_and_sets_alias(run_cell):
    run_cell(f"%%kf run --name fit --no-live\n{FIT}")
    run_cell("%kf register clf iris")
    run_cell("%kf register clf iris")
    browser = RegistryBrowser("iris")
    assert browser.version_box.value == "2"  # not empty: "Set alias" works at once
    browser.alias_box.value = "champion"
    browser.set_button.click()
    assert kf.Client().get_registered_model("iris").aliases == {"champion": "2"}
    assert "Invalid model version" not in browser.message.value


def test_registry_widget_explains_missing_alias(run_cell):
    run_cell(f"%%kf run --name fit --no-live\n{FIT}")
    run_cell("%kf register clf iris")
    browser = RegistryBrowser("iris")
    assert browser.set_alias("", "1") is False and "Type an alias" in browser.message.value
    assert browser.set_alias("champion", None) is False and "Pick a version" in browser.message.value


def test_stage_without_value_shows_a_dash(run_cell):
    run_cell(f"%%kf run --name fit --no-live\n{FIT}")
    run_cell("%kf register clf iris")
    page = versions_html(kf.Client(), "iris")
    assert "<td>—</td>" in page and "<td>None</td>" not in page
    assert ">None<" not in kf.Client().get_model_version("iris", "1")._repr_html_()
