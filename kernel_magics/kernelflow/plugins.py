"""Extension points: commands and ``%kf`` subcommands that other packages provide.

The core imports none of its adapters. ``kernelflow ui`` (the dashboard),
``kernelflow serve`` (serving), ``kernelflow gateway`` (the gateway) and their
``%kf`` subcommands are found through two entry-point groups:

- ``kernelflow.commands``: each entry point names a :class:`CliCommand`;
- ``kernelflow.magics``: each entry point names a :class:`MagicCommand`.

A package declares them in its ``pyproject.toml``::

    [project.entry-points."kernelflow.commands"]
    serve = "kernelflow_serving.commands:serve_command"

The module an entry point names must stay light (no Ray, litellm or Panel at
import time): ``kernelflow --help`` and ``%load_ext kernelflow`` load it. The
heavy import happens inside ``run`` / ``handler``; use :func:`require_extra` there
so a missing extra is a message naming the ``pip install`` to run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from .errors import KernelflowError

COMMANDS_GROUP = "kernelflow.commands"
MAGICS_GROUP = "kernelflow.magics"

__all__ = ["CliCommand", "MagicCommand", "COMMANDS_GROUP", "MAGICS_GROUP", "load_commands",
           "load_magics", "require_extra"]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """The default ``add_arguments``: the command takes none."""


@dataclass
class CliCommand:
    """A ``kernelflow NAME`` subcommand.

    Attributes:
        name: the subcommand's name.
        help: one line for ``kernelflow --help`` (also the command's description).
        add_arguments: adds the subcommand's arguments to its argparse parser.
        run: called with the parsed ``argparse.Namespace``; returns an exit code or None.
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], int | None]
    add_arguments: Callable[[argparse.ArgumentParser], None] = field(default=_no_arguments)


@dataclass
class MagicCommand:
    """A ``%kf NAME`` (or ``%%kf NAME`` when ``cell``) subcommand.

    Attributes:
        name: the subcommand's name.
        help: one line for ``%kf --help``.
        handler: ``handler(shell, args, cell)``; ``cell`` is None for a line magic.
        add_arguments: adds the subcommand's arguments to its parser.
        cell: True when it is only a cell magic (``%%kf NAME``).
    """

    name: str
    help: str
    handler: Callable[..., Any]
    add_arguments: Callable[[argparse.ArgumentParser], None] = field(default=_no_arguments)
    cell: bool = False


def _load(group: str, kind: type[CliCommand] | type[MagicCommand]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the others
            print(f"kernelflow: could not load {group} entry point {ep.name!r} ({ep.value}): "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if not isinstance(obj, kind):
            print(f"kernelflow: {group} entry point {ep.name!r} is not a {kind.__name__}; "
                  "skipped.", file=sys.stderr)
            continue
        found[obj.name] = obj
    return found


def load_commands() -> dict[str, CliCommand]:
    """The installed ``kernelflow`` subcommands from the ``kernelflow.commands`` group."""
    return _load(COMMANDS_GROUP, CliCommand)


def load_magics() -> dict[str, MagicCommand]:
    """The installed ``%kf`` subcommands from the ``kernelflow.magics`` group."""
    return _load(MAGICS_GROUP, MagicCommand)


def require_extra(module: str, extra: str) -> Any:
    """Import ``module``; when it is missing, raise a KernelflowError naming the extra.

    Args:
        module: the import name, e.g. ``"ray.serve"``.
        extra: the kernelflow extra that brings it, e.g. ``"serving"``.

    Raises:
        KernelflowError: the module (or one it needs) is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise KernelflowError(
            f"This needs kernelflow's {extra!r} extra, which is not installed ({exc}). "
            f"Install it with: pip install 'kernelflow[{extra}]'"
        ) from exc
