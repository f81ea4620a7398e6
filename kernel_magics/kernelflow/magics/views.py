"""``%kf`` subcommands that show or register: runs, compare, register, models, autolog."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from .. import fluent
from .parser import command


def _runs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", default="", help="e.g. \"metrics.acc > 0.9 AND params.lr = '0.01'\"")
    p.add_argument("-o", "--order", action="append", metavar="EXPR",
                   help="e.g. 'metrics.acc DESC' (repeatable; default: newest first)")
    p.add_argument("--max", type=int, default=100, help="rows at most (default 100)")
    p.add_argument("-e", "--experiment", action="append", metavar="NAME",
                   help="experiment name (repeatable; default: the active experiment)")
    p.add_argument("--all", action="store_true", help="runs of every experiment")
    p.add_argument("--columns", help="comma-separated columns, e.g. metrics.acc,params.lr")


@command("runs", "show the runs table: filter, sort, pick runs to compare", _runs_arguments)
def runs(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    from ..widgets.runs_table import RunsTable

    ids = None
    if args.experiment:
        ids = [_experiment_id(name) for name in args.experiment]
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    from .dashboard import running_url

    table = RunsTable(ids, args.filter, args.order, args.max, columns, args.all,
                      dashboard_url=running_url())
    if table.error:
        raise UsageError(f"%kf runs: {table.error}")
    return table


def _experiment_id(name: str) -> str:
    exp = fluent.get_experiment_by_name(name)
    if exp is None:
        raise UsageError(f"%kf runs: no experiment named {name!r}. `%kf experiment NAME` creates one.")
    return exp.experiment_id


def _compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_ID_OR_NAME")
    p.add_argument("-m", "--metric", action="append", metavar="KEY",
                   help="metric to draw (repeatable; default: every metric)")


@command("compare", "overlay the metric curves of several runs", _compare_arguments)
def compare(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    from ..widgets.compare import compare_runs

    return compare_runs(args.runs, args.metric)


def _register_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("variable", help="name of the kernel variable holding the model")
    p.add_argument("model_name", help="registered model name (created if needed)")
    p.add_argument("-a", "--alias", help="point this alias (e.g. champion) at the new version")
    p.add_argument("--artifact-path", default="model", help="folder in the run (default: model)")
    p.add_argument("--run", metavar="RUN_ID", dest="run_id",
                   help="the run that trained the model (default: the %%%%kf run cell that set "
                   "VARIABLE, else the active run, else this kernel's last run, else a new run)")


@command("register", "log a kernel variable as a model and register it as a new version",
         _register_arguments)
def register(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    model = _model_variable(shell, args)
    found = _training_run(shell, args)
    own = found is None
    run_id: str = fluent.start_run().info.run_id if found is None else found
    try:
        version = _log_and_register(model, args, run_id)
    except Exception as exc:
        raise UsageError(_register_failed(run_id, own, exc)) from None
    if own:
        fluent.end_run("FINISHED", run_id=run_id)
    where = f"models:/{args.model_name}@{args.alias}" if args.alias else \
        f"models:/{args.model_name}/{version.version}"
    print(f"kernelflow: registered {args.model_name!r} version {version.version} from run "
          f"{run_id}. Load it with kernelflow.load_model({where!r}).")
    return None


def _training_run(shell: Any, args: argparse.Namespace) -> str | None:
    """The run to log the model in: ``--run``, the run that set the variable, the active run,
    or this kernel's last ``%%kf run``; None when there is none (a new run is started)."""
    from ..errors import ResourceNotFoundError
    from .tracking import last_kernel_run, run_of_variable

    if args.run_id:
        try:
            run = fluent.get_run(args.run_id)
        except ResourceNotFoundError:
            raise UsageError(f"%kf register: no run with id {args.run_id!r}. `%kf runs` lists "
                             "runs with their ids.") from None
        if run.info.lifecycle_stage == "deleted":
            raise UsageError(f"%kf register: run {args.run_id} is deleted; restore it first.")
        return run.info.run_id
    active = fluent.active_run()
    for run_id in (run_of_variable(shell, args.variable),
                   active.info.run_id if active else None, last_kernel_run()):
        if run_id and _usable(run_id):
            return run_id
    return None


def _usable(run_id: str) -> bool:
    from ..errors import KernelflowError

    try:
        return fluent.get_run(run_id).info.lifecycle_stage != "deleted"
    except KernelflowError:
        return False


def _model_variable(shell: Any, args: argparse.Namespace) -> Any:
    """The variable to register, once the name, alias and flavor are known to be fine."""
    from ..models import detect_flavor
    from ..registry import check_alias, check_model_name

    if args.variable not in shell.user_ns:
        raise UsageError(f"%kf register: no variable named {args.variable!r} in the notebook. "
                         "Pass the name of the variable that holds the trained model.")
    model = shell.user_ns[args.variable]
    check_model_name(args.model_name)
    if args.alias is not None:
        check_alias(args.alias)
    detect_flavor(model)
    return model


def _log_and_register(model: Any, args: argparse.Namespace, run_id: str) -> Any:
    import kernelflow

    info = kernelflow.log_model(model, args.artifact_path, run_id=run_id)
    version = kernelflow.register_model(info.model_uri, args.model_name)
    if args.alias:
        kernelflow.Client().set_registered_model_alias(args.model_name, args.alias, version.version)
    return version


def _register_failed(run_id: str, own: bool, exc: Exception) -> str:
    """End the run this command started FAILED; the message for the user."""
    from .tracking import end_failed

    what = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    if own:
        end_failed(run_id, exc)
        return f"%kf register: could not log or register the model: {what}. Run {run_id} ended FAILED."
    return (f"%kf register: could not log or register the model in run {run_id}: {what}. "
            "The run is unchanged.")


@command("models", "show the model registry: versions, aliases, stages; move aliases",
         lambda p: p.add_argument("name", nargs="?", help="registered model to open"))
def models(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    from ..widgets.registry import RegistryBrowser

    return RegistryBrowser(args.name)


def _autolog_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("framework", nargs="?", default="all",
                   choices=["sklearn", "pytorch", "keras", "all"], help="default: all")
    p.add_argument("--off", action="store_true", help="turn autologging off")
    p.add_argument("--no-models", action="store_true", help="do not log trained models")


@command("autolog", "log training automatically (scikit-learn, PyTorch Lightning, Keras)",
         _autolog_arguments)
def autolog(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from ..autolog import FRAMEWORKS
    from ..autolog import autolog as set_autolog

    frameworks = FRAMEWORKS if args.framework == "all" else (args.framework,)
    set_autolog(disable=args.off, log_models=not args.no_models, frameworks=list(frameworks))
    state = "off" if args.off else "on"
    print(f"kernelflow: autologging {state} for {', '.join(frameworks)}")
