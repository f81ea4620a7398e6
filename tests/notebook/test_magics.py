"""The %kf magics through a real IPython InteractiveShell, on a real SQLite store."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import kernelflow as kf
from kernelflow.magics.parser import all_commands

COMMANDS = all_commands()

EXPECTED = {"experiment", "run", "end", "param", "metric", "tag", "status", "capture", "live",
            "runs", "compare", "register", "models", "autolog", "dashboard"}


def runs_by_name():
    return {r.info.run_name: r for r in kf.search_runs(output_format="list",
                                                        search_all_experiments=True)}


# -- help ------------------------------------------------------------------------
def test_help_lists_every_subcommand(shell, capsys):
    shell.run_line_magic("kf", "--help")
    out = capsys.readouterr().out
    assert EXPECTED <= set(COMMANDS)
    for name in COMMANDS:
        assert f"    {name}" in out, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_subcommand_has_help(shell, capsys, name):
    shell.run_line_magic("kf", f"{name} --help")
    out = capsys.readouterr().out
    assert out.startswith("usage: %")
    assert COMMANDS[name].help in " ".join(out.split())


def test_kernelflow_is_an_alias_of_kf(shell, capsys):
    shell.run_line_magic("kernelflow", "experiment aliased")
    assert "aliased" in capsys.readouterr().out
    assert kf.get_experiment_by_name("aliased") is not None


def test_kf_alone_shows_status(shell, capsys, tracking_uri):
    shell.run_line_magic("kf", "")
    out = capsys.readouterr().out
    assert tracking_uri in out and "active run:    none" in out


def test_unknown_subcommand_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="invalid choice"):
        shell.run_line_magic("kf", "frobnicate")


def test_unbalanced_quotes_say_so(shell):
    with pytest.raises(UsageError, match="quotes"):
        shell.run_line_magic("kf", "experiment 'oops")


def test_run_as_line_magic_explains_cell_magic(shell):
    with pytest.raises(UsageError, match="cell magic"):
        shell.run_line_magic("kf", "run --name x")


def test_line_command_with_cell_body_is_refused(shell):
    with pytest.raises(UsageError, match="takes no cell body"):
        shell.run_cell_magic("kf", "experiment x", "print(1)")


# -- experiment ------------------------------------------------------------------
def test_experiment_creates_and_activates(shell, capsys):
    shell.run_line_magic("kf", "experiment 'my exp'")
    exp = kf.get_experiment_by_name("my exp")
    assert exp is not None
    with kf.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    shell.run_line_magic("kf", "experiment")
    assert "'my exp'" in capsys.readouterr().out.splitlines()[-1]


# -- %%kf run --------------------------------------------------------------------
def test_run_cell_logs_params_tags_metrics_and_returns_value(run_cell):
    result = run_cell(
        "%%kf run --name first -p lr=0.1 -p layers=3 -t team=vision --no-live\n"
        "for i in range(20):\n"
        "    kf.log_metric('loss', 1 / (i + 1), step=i)\n"
        "%kf metric acc=0.9 --step 19\n"
        "6 * 7"
    )
    assert result.success and result.result == 42
    run = runs_by_name()["first"]
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.1", "layers": "3"}
    assert run.data.tags["team"] == "vision"
    assert run.data.metrics == {"loss": pytest.approx(0.05), "acc": 0.9}
    assert len(kf.get_metric_history(run.info.run_id, "loss")) == 20


def test_run_cell_saves_cell_source_and_environment(run_cell):
    run_cell("%%kf run --name captured --no-live\nx = 1")
    run = runs_by_name()["captured"]
    client = kf.Client()
    assert open(client.download_artifacts(run.info.run_id, "code/cell.py")).read() == "x = 1\n"
    reqs = open(client.download_artifacts(run.info.run_id, "environment/requirements.txt")).read()
    assert "ipython==" in reqs.lower()
    assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert run.data.tags["kernelflow.python.version"].count(".") == 2
    assert int(run.data.tags["kernelflow.cell.execution_count"]) >= 1


def test_no_capture_skips_artifacts(run_cell):
    run_cell("%%kf run --name bare --no-live --no-capture\nx = 1")
    run = runs_by_name()["bare"]
    assert kf.Client().list_artifacts(run.info.run_id) == []


def test_failing_cell_ends_failed_and_propagates(run_cell):
    result = run_cell("%%kf run --name broken --no-live\nkf.log_metric('m', 1.0)\n1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    run = runs_by_name()["broken"]
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"m": 1.0}
    assert run.data.tags["kernelflow.error"] == "ZeroDivisionError: division by zero"
    assert kf.active_run() is None


def test_interrupted_cell_ends_killed(run_cell):
    result = run_cell("%%kf run --name stopped --no-live\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert runs_by_name()["stopped"].info.status == "KILLED"
    assert kf.active_run() is None


def test_syntax_error_in_cell_fails_the_run(run_cell):
    result = run_cell("%%kf run --name syntax --no-live\nx = (")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert runs_by_name()["syntax"].info.status == "FAILED"


def test_rerunning_the_cell_starts_a_new_run(run_cell):
    cell = "%%kf run --name again --no-live\nkf.log_metric('x', 1.0)"
    run_cell(cell)
    run_cell(cell)
    again = [r for r in kf.search_runs(output_format="list") if r.info.run_name == "again"]
    assert len(again) == 2 and len({r.info.run_id for r in again}) == 2
    assert {r.info.status for r in again} == {"FINISHED"}


def test_run_left_open_by_an_error_never_blocks_the_next(run_cell, capsys):
    run_cell("kf.start_run(run_name='stale')\nraise ValueError('boom')")
    result = run_cell("%%kf run --name next --no-live\nkf.log_metric('x', 1.0)")
    assert result.success
    runs = runs_by_name()
    assert runs["stale"].info.status == "FAILED"
    assert runs["next"].info.status == "FINISHED"
    assert runs["next"].data.tags.get("mlflow.parentRunId") is None
    assert "left active by an earlier cell" in capsys.readouterr().err


def test_nested_run_is_a_child_of_the_active_run(run_cell):
    parent = kf.start_run(run_name="parent")
    run_cell("%%kf run --name child --nested --no-live\nkf.log_metric('x', 1.0)")
    assert kf.active_run().info.run_id == parent.info.run_id
    kf.end_run()
    child = runs_by_name()["child"]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.info.status == "FINISHED"


def test_run_into_named_experiment(run_cell):
    run_cell("%%kf run --name in-exp -e elsewhere --no-live\npass")
    run = runs_by_name()["in-exp"]
    assert run.info.experiment_id == kf.get_experiment_by_name("elsewhere").experiment_id


def test_bad_param_syntax_is_a_usage_error_and_starts_no_run(run_cell):
    result = run_cell("%%kf run -p novalue --no-live\npass")
    assert isinstance(result.error_in_exec, UsageError)
    assert "key=value" in str(result.error_in_exec)
    assert kf.search_runs(output_format="list") == []


@pytest.mark.parametrize("option, says", [
    ("-p k=" + "v" * 7000, "limit is 6000"),
    ("-t k=" + "v" * 9000, "limit is"),
    ("-p 'bad key!=1'", "Invalid param key"),
    ("-t '/abs=1'", "Invalid tag key"),
], ids=["long-param", "long-tag", "bad-param-key", "bad-tag-key"])
def test_bad_param_or_tag_is_a_usage_error_and_starts_no_run(run_cell, shell, option, says):
    result = run_cell(f"%%kf run --name refused {option} --no-live\nran = True")
    assert isinstance(result.error_in_exec, UsageError)
    assert says in str(result.error_in_exec)
    assert kf.active_run() is None
    assert kf.search_runs(output_format="list", search_all_experiments=True) == []
    assert "ran" not in shell.user_ns


def test_run_failing_to_start_after_it_exists_ends_failed(run_cell, shell, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("KERNELFLOW_ARTIFACT_ROOT", str(tmp_path / "a-file" / "artifacts"))
    result = run_cell("%%kf run --name unrecordable -e elsewhere --no-live\nran = True")
    assert isinstance(result.error_in_exec, UsageError)
    message = str(result.error_in_exec)
    assert "could not start" in message and "ended FAILED" in message
    assert "ran" not in shell.user_ns
    assert kf.active_run() is None
    run = runs_by_name()["unrecordable"]
    assert run.info.status == "FAILED"
    assert "Not a directory" in run.data.tags["kernelflow.error"]


def test_magics_inside_run_cell_work(run_cell):
    run_cell("%%kf run --name inner --no-live\n%kf param opt=adam\n%kf tag stage=tune")
    run = runs_by_name()["inner"]
    assert run.data.params == {"opt": "adam"} and run.data.tags["stage"] == "tune"


def test_run_cell_shows_summary_outside_a_kernel(run_cell, capsys):
    run_cell("%%kf run --name summary\nkf.log_metric('x', 1.0)")
    assert "'summary'" in capsys.readouterr().out
    assert runs_by_name()["summary"].info.status == "FINISHED"


# -- param / metric / tag / end --------------------------------------------------
def test_param_metric_tag_log_into_active_run(shell):
    with kf.start_run() as run:
        shell.run_line_magic("kf", "param a=1 b=two")
        shell.run_line_magic("kf", "metric loss=0.5 acc=0.75 --step 3")
        shell.run_line_magic("kf", "tag owner=me")
    got = kf.get_run(run.info.run_id)
    assert got.data.params == {"a": "1", "b": "two"}
    assert got.data.metrics == {"loss": 0.5, "acc": 0.75}
    assert got.data.tags["owner"] == "me"
    assert kf.get_metric_history(run.info.run_id, "acc")[0].step == 3


@pytest.mark.parametrize("line", ["param a=1", "metric loss=1", "tag a=b", "end"])
def test_logging_without_active_run_says_so(shell, line):
    with pytest.raises(UsageError, match="no active run"):
        shell.run_line_magic("kf", line)
    assert kf.search_runs(output_format="list") == []


def test_metric_must_be_a_number(shell):
    with kf.start_run():
        with pytest.raises(UsageError, match="needs a number"):
            shell.run_line_magic("kf", "metric loss=abc")


def test_changing_a_param_is_a_clear_usage_error(shell):
    with kf.start_run():
        shell.run_line_magic("kf", "param a=1")
        with pytest.raises(UsageError, match="cannot change"):
            shell.run_line_magic("kf", "param a=2")


def test_end_ends_the_active_run(shell):
    run = kf.start_run()
    shell.run_line_magic("kf", "end --status KILLED")
    assert kf.active_run() is None
    assert kf.get_run(run.info.run_id).info.status == "KILLED"


# -- views -----------------------------------------------------------------------
def test_runs_returns_filtered_table(run_cell, shell):
    for name, acc in (("low", 0.5), ("high", 0.95)):
        run_cell(f"%%kf run --name {name} --no-live\nkf.log_metric('acc', {acc})")
    table = shell.run_line_magic("kf", "runs --filter 'metrics.acc > 0.9'")
    assert [r.info.run_name for r in table.runs] == ["high"]
    assert "high" in table.widget.children[3].html and "low" not in table.widget.children[3].html


def test_runs_with_bad_filter_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="%kf runs"):
        shell.run_line_magic("kf", "runs --filter 'metrics.acc >>> 1'")


def test_runs_unknown_experiment(shell):
    with pytest.raises(UsageError, match="no experiment named"):
        shell.run_line_magic("kf", "runs -e nope")


def test_compare_by_name_and_id(run_cell, shell):
    run_cell("%%kf run --name a --no-live\nfor i in range(5): kf.log_metric('loss', i, step=i)")
    run_cell("%%kf run --name b --no-live\nfor i in range(5): kf.log_metric('loss', -i, step=i)")
    b_id = runs_by_name()["b"].info.run_id
    chart = shell.run_line_magic("kf", f"compare a {b_id} --metric loss")
    assert [r.info.run_name for r in chart.runs] == ["a", "b"]
    html = chart._repr_html_()
    assert html.count('class="kf-series"') == 2


def test_compare_unknown_run_is_a_usage_error(shell):
    with pytest.raises(UsageError, match="No run has id or name 'ghost'"):
        shell.run_line_magic("kf", "compare ghost")


def test_capture_on_records_cells_of_active_run(run_cell, shell):
    shell.run_line_magic("kf", "capture on")
    run = kf.start_run(run_name="captured-cells")
    run_cell("y = 2")
    run_cell("z = y * 3")
    kf.end_run()
    shell.run_line_magic("kf", "capture off")
    run_cell("w = 1")  # not recorded: capture is off and no run is active
    path = kf.Client().download_artifacts(run.info.run_id, "code/cells.py")
    text = open(path).read()
    assert "y = 2" in text and "z = y * 3" in text and "w = 1" not in text


def test_no_hooks_unless_turned_on(shell):
    from kernelflow.capture import CellRecorder

    callbacks = [cb for cbs in shell.events.callbacks.values() for cb in cbs]
    assert not any(isinstance(getattr(cb, "__self__", None), CellRecorder) for cb in callbacks)


def test_unload_removes_magics(shell):
    shell.run_line_magic("unload_ext", "kernelflow")
    assert "kf" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "kernelflow")
    assert "kf" in shell.magics_manager.magics["cell"]
