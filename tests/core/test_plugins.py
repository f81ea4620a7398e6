"""Commands and %kf subcommands from other packages, found through entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from kernelflow import plugins
from kernelflow.errors import KernelflowError

PLUGIN = textwrap.dedent('''
    from kernelflow.plugins import CliCommand, MagicCommand

    def _args(p):
        p.add_argument("--times", type=int, default=1, help="how many greetings")

    def _run(args):
        print("hello " * args.times)
        return 3

    hello = CliCommand("hello", "say hello (a test plugin)", _run, _args)
    hello_magic = MagicCommand("hello", "say hello in a cell (a test plugin)",
                               lambda shell, args, cell: print("hello from a plugin"))
    not_a_command = 42
''')


@pytest.fixture
def fake_plugins(tmp_path, monkeypatch):
    """A real module offered through entry points, plus a broken and a wrong-typed one."""
    (tmp_path / "kf_test_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {
        plugins.COMMANDS_GROUP: [
            EntryPoint("hello", "kf_test_plugin:hello", plugins.COMMANDS_GROUP),
            EntryPoint("broken", "kf_no_such_module:x", plugins.COMMANDS_GROUP),
            EntryPoint("odd", "kf_test_plugin:not_a_command", plugins.COMMANDS_GROUP),
        ],
        plugins.MAGICS_GROUP: [
            EntryPoint("hello", "kf_test_plugin:hello_magic", plugins.MAGICS_GROUP)],
    }
    monkeypatch.setattr(plugins, "entry_points", lambda group: found.get(group, []))
    return tmp_path


def test_installed_packages_provide_their_commands():
    """The dashboard's ``ui`` comes from its own package's entry point, not from the core."""
    commands = plugins.load_commands()
    assert commands["ui"].run.__module__ == "kernelflow_dashboard.commands"


def test_a_broken_plugin_is_reported_and_the_others_load(fake_plugins, capsys):
    commands = plugins.load_commands()
    assert set(commands) == {"hello"}
    err = capsys.readouterr().err
    assert "'broken'" in err and "kf_no_such_module" in err and "'odd'" in err


def test_the_cli_runs_a_plugin_command(fake_plugins, capsys):
    from kernelflow.cli import build_parser, main

    assert "say hello" in build_parser().format_help()
    assert main(["hello", "--times", "2"]) == 3
    assert "hello hello" in capsys.readouterr().out


def test_kf_help_lists_and_runs_plugin_magics(fake_plugins, capsys):
    from IPython.testing.globalipapp import start_ipython

    from kernelflow.magics import parser

    monkey_cache = parser._plugins
    parser._plugins = None
    try:
        ip = start_ipython()
        ip.run_line_magic("load_ext", "kernelflow")
        ip.run_line_magic("kf", "--help")
        assert "say hello in a cell" in capsys.readouterr().out
        ip.run_line_magic("kf", "hello")
        assert "hello from a plugin" in capsys.readouterr().out
    finally:
        parser._plugins = monkey_cache


def test_a_missing_extra_names_the_install():
    with pytest.raises(KernelflowError, match=r"pip install 'kernelflow\[serving\]'"):
        plugins.require_extra("kf_no_such_module_for_serving", "serving")


def test_kernelflow_help_lists_the_installed_commands():
    out = subprocess.run([sys.executable, "-m", "kernelflow", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in plugins.load_commands():
        assert name in out
