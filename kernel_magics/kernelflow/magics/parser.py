"""Argument parsing for ``%kf``: git-style subcommands on argparse, without ``sys.exit``."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from IPython.core.error import UsageError

from ..plugins import MagicCommand, load_magics


class HelpShown(Exception):
    """``--help`` printed the help text; nothing else to do."""


class MagicArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that reports errors as IPython ``UsageError`` instead of exiting."""

    def exit(self, status: int = 0, message: str | None = None):  # type: ignore[override]
        if status:
            raise UsageError(message or f"{self.prog}: invalid arguments")
        raise HelpShown()

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}. See `{self.prog} --help`.")


Command = MagicCommand  # one %kf subcommand (the type plugins register too)

COMMANDS: dict[str, Command] = {}  # the core's own subcommands
# The order `%kf --help` lists them in: the lifecycle, then the helpers.
ORDER = ("experiment", "run", "param", "metric", "tag", "end", "live", "runs", "compare",
         "register", "models", "autolog", "dashboard", "capture", "status")
_plugins: dict[str, Command] | None = None


def command(name: str, help: str, arguments: Callable | None = None, cell: bool = False):
    """Register the decorated ``handler(shell, args, cell)`` as ``%kf NAME``."""

    def wrap(fn: Callable) -> Callable:
        COMMANDS[name] = Command(name, help, fn, arguments or (lambda p: None), cell)
        return fn

    return wrap


def all_commands() -> dict[str, Command]:
    """The core's subcommands and the installed packages' (``kernelflow.magics`` entry points)."""
    global _plugins
    if _plugins is None:
        _plugins = load_magics()
    found = dict(COMMANDS)
    for name, cmd in _plugins.items():
        found.setdefault(name, cmd)
    return found


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, max_help_position=14, width=100)


def build_parser() -> MagicArgumentParser:
    """The ``%kf`` parser with every registered subcommand."""
    parser = MagicArgumentParser(
        prog="%kf",
        description="kernelflow in the notebook: track runs, compare them, register models. "
        "Every subcommand has --help. `%kf` alone shows where data goes and what is active.",
        epilog="Cell magic: %%kf run [options] runs the cell as one tracked run.",
        formatter_class=_formatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=MagicArgumentParser)
    rank = {name: i for i, name in enumerate(ORDER)}
    for cmd in sorted(all_commands().values(), key=lambda c: rank.get(c.name, len(rank))):
        prog = f"%%kf {cmd.name}" if cmd.cell else f"%kf {cmd.name}"
        p = sub.add_parser(cmd.name, help=cmd.help.replace("%", "%%"), description=cmd.help,
                           prog=prog, formatter_class=_formatter)
        cmd.add_arguments(p)
    return parser


def split_line(line: str) -> list[str]:
    """Split a magic line like a shell would; a clear error for unbalanced quotes."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%kf: cannot parse {line!r}: {exc}. Check the quotes.") from None


def parse_pairs(items: list[str], what: str) -> dict[str, str]:
    """Turn ``["k=v", ...]`` into a dict; a clear error for items without ``=``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"%kf: {what} {item!r} must look like key=value (no spaces around =).")
        out[key.strip()] = value
    return out


def parse_metrics(items: list[str]) -> dict[str, float]:
    """``["loss=0.1", ...]`` to ``{"loss": 0.1}``; a clear error for non-numbers."""
    out = {}
    for key, value in parse_pairs(items, "metric").items():
        try:
            out[key] = float(value)
        except ValueError:
            raise UsageError(f"%kf metric: {key!r} needs a number, got {value!r}.") from None
    return out
