"""User mistakes in magics and notebook runs give clear messages, never our stack frames."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from IPython.core.error import UsageError
from nbformat.v4 import new_code_cell, new_notebook

import kernelflow as kf
from kernelflow.errors import InvalidParameterError
from kernelflow.notebooks import run_notebook

INTERNAL = ("tracking.py", "ast.py", "magics/__init__.py", "run_cell_magic", "_dispatch")


def _plain(captured) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", captured.out + captured.err)


def _all_runs():
    return kf.search_runs(output_format="list", search_all_experiments=True)


# -- a syntax error in a %%kf run cell reads like one in a plain cell ---------------
def test_syntax_error_in_run_cell_shows_only_the_users_error(run_cell, capsys):
    result = run_cell("%%kf run --name syntax --no-live\nok = 1\nx = (")
    text = _plain(capsys.readouterr())
    assert isinstance(result.error_in_exec, SyntaxError)
    assert "SyntaxError: '(' was never closed" in text and "x = (" in text
    assert not [frame for frame in INTERNAL if frame in text], text
    assert "Traceback" not in text


def test_syntax_error_display_is_one_shot_and_keeps_custom_handlers(shell, run_cell, capsys):
    seen = []
    shell.set_custom_exc((ZeroDivisionError,), lambda self, etype, value, tb, tb_offset=None:
                         seen.append(etype))
    run_cell("%%kf run --no-live\nx = (")
    run_cell("1 / 0")
    assert seen == [ZeroDivisionError]
    shell.set_custom_exc((), None)
    capsys.readouterr()
    result = run_cell("%%kf run --no-live\nimport ast\nast.parse('y = (')")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert "Traceback" in _plain(capsys.readouterr())  # raised at run time: the full traceback


# -- %kf dashboard --port ------------------------------------------------------------
@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_dashboard_port_out_of_range_is_a_clear_usage_error(shell, port):
    with pytest.raises(UsageError, match="1-65535") as err:
        shell.run_line_magic("kf", f"dashboard --port={port}")
    assert "Assertion" not in str(err.value)


# -- %kf experiment '' / %kf live BOGUS -----------------------------------------------
@pytest.mark.parametrize("name", ["''", "'  '"])
def test_empty_experiment_name_is_a_clear_usage_error(shell, name):
    with pytest.raises(UsageError, match="experiment name is empty") as err:
        shell.run_line_magic("kf", f"experiment {name}")
    assert "set_experiment" not in str(err.value)


def test_live_for_unknown_run_is_a_clear_usage_error(shell):
    with pytest.raises(UsageError, match="no run with id 'nosuchrun'"):
        shell.run_line_magic("kf", "live nosuchrun")
    assert "_kf_live" not in shell.user_ns


# -- kernelflow run --kernel NOSUCH ----------------------------------------------------
@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "p.ipynb"
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")], metadata=meta), path)
    return path


def test_run_notebook_with_unknown_kernel_creates_no_run(tracking_uri, notebook):
    with pytest.raises(InvalidParameterError, match="No Jupyter kernel named 'nosuchkernel'") as err:
        run_notebook(str(notebook), {"a": 1}, kernel_name="nosuchkernel")
    assert "python3" in str(err.value)  # the kernels that do exist
    assert _all_runs() == []


def test_run_notebook_whose_own_kernel_is_missing_creates_no_run(tracking_uri, notebook):
    nb = nbformat.read(notebook, as_version=4)
    nb.metadata.kernelspec.name = "gone-kernel"
    nbformat.write(nb, notebook)
    with pytest.raises(InvalidParameterError, match="'gone-kernel'.*--kernel"):
        run_notebook(str(notebook))
    assert _all_runs() == []


def test_cli_with_unknown_kernel_says_so_without_traceback(kernel_env, notebook):
    proc = subprocess.run([sys.executable, "-m", "kernelflow", "run", str(notebook), "--kernel",
                           "nosuchkernel", "-P", "a=1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "No Jupyter kernel named 'nosuchkernel'" in proc.stderr
    assert "Traceback" not in proc.stderr and "NoSuchKernel" not in proc.stderr
    assert _all_runs() == []
