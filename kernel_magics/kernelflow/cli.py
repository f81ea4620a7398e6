"""The ``kernelflow`` command line: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .errors import KernelflowError
from .plugins import CliCommand, load_commands

_COMMANDS: dict[str, CliCommand] = {}  # the core's own; others come from entry points


def command(name: str, help: str):
    """Register a core subcommand: the decorated function takes the parsed args."""

    def wrap(fn: Callable) -> Callable:
        _COMMANDS[name] = CliCommand(name, help, fn, getattr(fn, "_arguments", _no_args))
        return fn

    return wrap


def _no_args(p: argparse.ArgumentParser) -> None:
    """A command without arguments."""


def arguments(add: Callable[[argparse.ArgumentParser], None]):
    """Attach an argument-adding function to a command."""

    def wrap(fn: Callable) -> Callable:
        fn._arguments = add  # type: ignore[attr-defined]
        return fn

    return wrap


def store_argument(p: argparse.ArgumentParser) -> None:
    """Add ``--store URI`` (the tracking URI) to a command's parser."""
    p.add_argument("--store", metavar="URI", help="tracking URI (default: $KERNELFLOW_TRACKING_URI "
                   "or sqlite:///./kernelflow.db)")


_store_arg = store_argument


def use_store(args: argparse.Namespace) -> None:
    """Make ``args.store`` (when given) the tracking URI of this process."""
    if getattr(args, "store", None):
        from .config import set_tracking_uri

        set_tracking_uri(args.store)


_use_store = use_store


def commands() -> dict[str, CliCommand]:
    """Every ``kernelflow`` subcommand: the core's and the installed packages' (entry points)."""
    found = dict(_COMMANDS)
    for name, cmd in load_commands().items():
        found.setdefault(name, cmd)
    return found


def _parse_value(text: str):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _run_args(p: argparse.ArgumentParser) -> None:
    _store_arg(p)
    p.add_argument("notebook", metavar="PATH",
                   help="the .ipynb to run, or an MLflow Project folder (with an MLproject file)")
    p.add_argument("-P", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a parameter injected into the cell tagged 'parameters', or a project "
                   "entry point's parameter (repeatable)")
    p.add_argument("-e", "--entry-point", default="main",
                   help="project entry point, or a .py/.sh file of it (default: main)")
    p.add_argument("--env-manager", help="projects run in the current environment: only "
                   "'local' is supported")
    p.add_argument("--run-name", help="the project run's name")
    p.add_argument("--experiment", help="experiment name (created if needed)")
    p.add_argument("--output", help="where to write the executed notebook")
    p.add_argument("--kernel", help="kernel name (default: the notebook's)")
    p.add_argument("--timeout", type=int, help="seconds allowed per cell")


@command("run", "execute a notebook, or an MLflow Project folder, with parameters as one "
         "tracked run")
@arguments(_run_args)
def _run(args: argparse.Namespace) -> None:
    import os

    from .notebooks import run_notebook

    _use_store(args)
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise KernelflowError(f"Parameter {item!r} must look like key=value.")
        params[key] = value if os.path.isdir(args.notebook) else _parse_value(value)
    if os.path.isdir(args.notebook):
        from .projects import run_project

        run = run_project(args.notebook, params, entry_point=args.entry_point,
                          experiment_name=args.experiment, env_manager=args.env_manager,
                          run_name=args.run_name)
        print(f"run {run.info.run_id} ({run.info.run_name}): {run.info.status}")
        if run.info.status != "FINISHED":
            sys.exit(1)
        return
    run = run_notebook(args.notebook, params, experiment_name=args.experiment,
                       output_path=args.output, kernel_name=args.kernel, timeout=args.timeout)
    print(f"run {run.info.run_id} ({run.info.run_name}): {run.info.status}")
    if run.info.status != "FINISHED":
        sys.exit(1)


@command("experiments", "list experiments with their run counts")
@arguments(_store_arg)
def _experiments(args: argparse.Namespace) -> None:
    from .client import Client

    _use_store(args)
    c = Client()
    counts = c.count_runs_by_experiment()
    for exp in c.search_experiments():
        print(f"{exp.experiment_id:>4}  {exp.name:<30} {counts.get(exp.experiment_id, 0):>6} runs")


def _runs_args(p: argparse.ArgumentParser) -> None:
    _store_arg(p)
    p.add_argument("--experiment", default="Default", help="experiment name (default: Default)")
    p.add_argument("--filter", default="", help="e.g. \"metrics.acc > 0.9 AND params.opt = 'adam'\"")
    p.add_argument("--order", action="append", help="e.g. 'metrics.acc DESC' (repeatable)")
    p.add_argument("--max", type=int, default=20, help="rows to show (default 20)")


@command("runs", "search runs with MLflow's filter grammar")
@arguments(_runs_args)
def _runs(args: argparse.Namespace) -> None:
    from .fluent import search_runs

    _use_store(args)
    frame = search_runs(experiment_names=[args.experiment], filter_string=args.filter,
                        order_by=args.order, max_results=args.max)
    if frame.empty:
        print("no runs match")
        return
    cols = ["run_id", "tags.mlflow.runName", "status"] + [
        c for c in frame.columns if c.startswith(("metrics.", "params."))
    ]
    print(frame[[c for c in cols if c in frame.columns]].to_string(index=False))


@command("demo", "log a few real runs (a small scikit-learn sweep, or numpy if sklearn is absent)")
@arguments(_store_arg)
def _demo(args: argparse.Namespace) -> None:
    from .demo import main as demo_main

    _use_store(args)
    demo_main()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kernelflow",
        description="kernelflow: experiment tracking, model registry, serving and an LLM "
        "gateway, native to Jupyter.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in commands().items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(func=cmd.run)
    return parser


def _version() -> str:
    from . import __version__

    return f"kernelflow {__version__}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kernelflow`` console script and ``python -m kernelflow``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        code = args.func(args)
    except KernelflowError as exc:
        print(f"kernelflow: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(code or 0)
