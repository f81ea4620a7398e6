"""``%kf`` subcommands that track: experiment, run, end, param, metric, tag, status, capture, live."""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any

from IPython.core.error import UsageError

from .. import fluent, validation
from ..errors import KernelflowError
from ..notebooks import ERROR_TAG
from .parser import command, parse_metrics, parse_pairs


def in_kernel(shell: Any) -> bool:
    """True in a Jupyter kernel (widgets can render), False in terminal IPython."""
    return getattr(shell, "kernel", None) is not None


def _need_active_run(what: str):
    run = fluent.active_run()
    if run is None:
        raise UsageError(
            f"%kf {what}: no active run to log to. Start one with a `%%kf run` cell or "
            "kernelflow.start_run(), then try again."
        )
    return run


# -- experiment ------------------------------------------------------------------
@command("experiment", "set the active experiment (created if it does not exist)",
         lambda p: p.add_argument("name", nargs="?", help="experiment name; omit to show the active one"))
def experiment(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    if args.name is not None and not args.name.strip():
        raise UsageError("%kf experiment: the experiment name is empty. Give a name, e.g. "
                         "`%kf experiment my-project`, or no argument to show the active one.")
    if args.name is None:
        exp = fluent.get_experiment(fluent._current_experiment_id())
        print(f"kernelflow: active experiment {exp.name!r} (id {exp.experiment_id})")
        return
    exp = fluent.set_experiment(args.name)
    print(f"kernelflow: active experiment {exp.name!r} (id {exp.experiment_id})")


# -- run -------------------------------------------------------------------------
def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--name", help="run name (default: a generated one)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="log a param (repeatable)")
    p.add_argument("-t", "--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="set a tag (repeatable)")
    p.add_argument("--nested", action="store_true", help="start a child run of the active run")
    p.add_argument("-e", "--experiment", help="experiment name (created if needed)")
    p.add_argument("-m", "--metric", action="append", metavar="KEY",
                   help="only chart these metric keys (repeatable; default: all)")
    p.add_argument("--no-live", action="store_true", help="do not show live metric charts")
    p.add_argument("--no-capture", action="store_true",
                   help="do not record the cell source, git state and installed packages")
    p.add_argument("--history", action="store_true",
                   help="also record every input of this session as code/history.py "
                   "(on for every run: %%kf capture history on)")


@command("run", "run the cell body as one tracked run (cell magic: %%kf run)", _run_arguments, cell=True)
def run(shell: Any, args: argparse.Namespace, cell: str) -> Any:
    __tracebackhide__ = True
    try:
        active, chart = _start(shell, args, cell)
    except KernelflowError as exc:
        raise UsageError(f"%%kf run: {exc}") from None
    run_id, status = active.info.run_id, "FAILED"
    before = _namespace_ids(shell)
    try:
        value = execute_cell(shell, cell)
        status = "FINISHED"
        return value
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    except BaseException as exc:
        _tag_error(run_id, exc)
        show_error_plainly(shell, exc)
        raise
    finally:
        _remember_run(shell, run_id, before)
        _finish(shell, active, status, chart)


# Which run of this kernel made each variable (``%kf register`` links the model to it).
_RUN_OF_VARIABLE: dict[str, tuple[str, int]] = {}
_last_run: list[str] = []


def _namespace_ids(shell: Any) -> dict[str, int]:
    return {k: id(v) for k, v in shell.user_ns.items() if not k.startswith("_")}


def _remember_run(shell: Any, run_id: str, before: dict[str, int]) -> None:
    """Note the variables a ``%%kf run`` cell (re)bound, and that it is this kernel's last run."""
    for name, value in list(shell.user_ns.items()):
        if not name.startswith("_") and before.get(name) != id(value):
            _RUN_OF_VARIABLE[name] = (run_id, id(value))
    _last_run[:] = [run_id]


def run_of_variable(shell: Any, name: str) -> str | None:
    """The run of the ``%%kf run`` cell that last set variable ``name``, if it still holds that value.

    Args:
        shell: the IPython shell.
        name: a variable of the notebook.

    Returns:
        The run id, or None when no ``%%kf run`` cell of this kernel set it (or it was rebound since).
    """
    found = _RUN_OF_VARIABLE.get(name)
    if found is None or name not in shell.user_ns or id(shell.user_ns[name]) != found[1]:
        return None
    return found[0]


def last_kernel_run() -> str | None:
    """The id of the run of this kernel's last ``%%kf run`` cell (None before the first)."""
    return _last_run[0] if _last_run else None


def _start(shell: Any, args: argparse.Namespace, cell: str):
    """Start the run of a ``%%kf run`` cell; nothing is left RUNNING when this fails."""
    tags, params = _checked_pairs(args.tag, "tag"), _checked_pairs(args.param, "param")
    nested = args.nested or _inside_notebook_run()
    if not nested:
        _end_stale_runs(shell)
    if args.experiment:
        fluent.set_experiment(args.experiment)
    parent = fluent.active_run() if nested else None
    exp_id = parent.info.experiment_id if parent and not args.experiment else None
    active = fluent.start_run(run_name=args.name, nested=nested, tags=tags, experiment_id=exp_id,
                              capture=False)
    try:
        _prepare(shell, args, cell, active.info.run_id, params)
        return active, _live_chart(shell, active.info.run_id, args.metric, args.no_live)
    except Exception as exc:
        end_failed(active.info.run_id, exc)
        raise UsageError(f"%%kf run: could not start the run: {type(exc).__name__}: {exc}. "
                         f"The run {active.info.run_id} was ended FAILED; the cell did not run."
                         ) from None


def _checked_pairs(items: list[str], what: str) -> dict[str, str]:
    """``k=v`` options as a dict, refused before any run exists when a key or value is invalid."""
    pairs = parse_pairs(items, what)
    check = validation.check_param_value if what == "param" else validation.check_tag_value
    for key, value in pairs.items():
        validation.check_key(key, f"{what} key")
        check(key, value)
    return pairs


def _prepare(shell: Any, args: argparse.Namespace, cell: str, run_id: str,
             params: dict[str, str]) -> None:
    if params:
        fluent.log_params(params, run_id=run_id)
    if not args.no_capture:
        from ..capture import capture_run, history_capture_enabled

        capture_run(run_id, cell, running_cell_number(shell), shell,
                    history=args.history or history_capture_enabled(shell))


def end_failed(run_id: str, exc: BaseException) -> None:
    """End a run a magic started FAILED, with the reason as its ``kernelflow.error`` tag.

    Best effort: the user's error matters more than ours, so a failure here is only printed.

    Args:
        run_id: the run to end.
        exc: why it failed.
    """
    _tag_error(run_id, exc)
    try:
        fluent.end_run("FAILED", run_id=run_id)
    except Exception as end_exc:
        print(f"kernelflow: could not end run {run_id}: {end_exc}", file=sys.stderr)


def _inside_notebook_run() -> bool:
    from ..notebooks import attached_run_id

    run = fluent.active_run()
    return run is not None and run.info.run_id == attached_run_id()


def _end_stale_runs(shell: Any) -> None:
    """End runs left active by earlier cells, so they never block this one (MLflow #2692)."""
    status = "FINISHED" if getattr(shell, "last_execution_succeeded", True) else "FAILED"
    while (stale := fluent.active_run()) is not None:
        fluent.end_run(status, run_id=stale.info.run_id)
        print(f"kernelflow: ended run {stale.info.run_name!r} ({stale.info.run_id}) left active "
              f"by an earlier cell, as {status}. Use --nested to start a child run instead.",
              file=sys.stderr)


def _live_chart(shell: Any, run_id: str, keys: list[str] | None, off: bool = False):
    if off:
        return None
    try:
        from ..widgets.live_chart import LiveChart
    except ImportError:  # pragma: no cover - ipywidgets is in the notebook extra
        return None
    chart = LiveChart(run_id, keys)
    if in_kernel(shell):
        chart.display()
    shell.user_ns["_kf_live"] = chart
    return chart.start()


def execute_cell(shell: Any, cell: str) -> Any:
    """Run cell source in the user namespace; return the value of a last bare expression.

    Magics inside the cell work (the source goes through IPython's transforms),
    and tracebacks point at the cell's own lines. A syntax error in the cell is
    shown as IPython shows one in a plain cell: the error alone, without our frames.
    """
    __tracebackhide__ = True
    try:
        filename, tree = _parse_cell(shell, cell)
    except SyntaxError as exc:
        show_syntax_error_plainly(shell, exc)
        raise
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        tail = tree.body.pop()
        assert isinstance(tail, ast.Expr)
        last = ast.Expression(tail.value)
    exec(compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)
    if last is not None:
        return eval(compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
    return None


_cell_files: set[str] = set()  # names under which %%kf run cells' code was compiled


def running_cell_number(shell: Any) -> int | None:
    """The running cell's number, as in its prompt (IPython 9 counts execution_count up first)."""
    running = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    return getattr(running, "execution_count", None) or getattr(shell, "execution_count", None)


def _parse_cell(shell: Any, cell: str) -> tuple[str, ast.Module]:
    # The magic's own line comes first, so tracebacks give the line numbers the user sees.
    code = "# %%kf run\n" + shell.transform_cell(cell)
    filename = shell.compile.cache(code, running_cell_number(shell), raw_code=cell)
    _cell_files.add(filename)
    return filename, ast.parse(code, filename)


def show_syntax_error_plainly(shell: Any, exc: SyntaxError) -> None:
    """Have IPython show ``exc``, about to be raised, like a plain cell's syntax error.

    IPython prints every frame for a SyntaxError raised while code runs (here: the
    magic's). A one-shot custom exception handler shows it as a parse error instead
    and then puts back the handlers the user had.

    Args:
        shell: the IPython shell running the cell.
        exc: the cell's SyntaxError.
    """
    _show_once(shell, exc, lambda etype, value, tb: shell.showsyntaxerror())


def show_error_plainly(shell: Any, exc: BaseException) -> None:
    """Have IPython show ``exc``, about to leave a ``%%kf run`` cell, like a plain cell's error.

    The traceback starts at the cell's own first frame: without the
    ``get_ipython().run_cell_magic(...)`` line and IPython's and kernelflow's frames.

    Args:
        shell: the IPython shell running the cell.
        exc: the exception raised by the cell's code.
    """
    if isinstance(exc, SyntaxError | KeyboardInterrupt | SystemExit) or exc.__traceback__ is None:
        return

    def show(etype: type, value: BaseException, tb: Any) -> None:
        shell.showtraceback((etype, value, _user_frames(tb)), tb_offset=0)

    _show_once(shell, exc, show)


def _user_frames(tb: Any) -> Any:
    """The traceback from the first frame of the cell's code (``<ipython-input-…>`` / ``Cell In``)."""
    t = tb
    while t is not None:
        if t.tb_frame.f_code.co_filename in _cell_files:
            return t
        t = t.tb_next
    return tb


def _show_once(shell: Any, exc: BaseException, show: Any) -> None:
    """Install a one-shot custom exception handler that shows ``exc`` with ``show(etype, value, tb)``."""
    if not hasattr(shell, "set_custom_exc"):
        return
    saved_types, saved_handler = shell.custom_exceptions, shell.CustomTB

    def handler(self: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        shell.custom_exceptions, shell.CustomTB = saved_types, saved_handler
        if value is exc:
            show(etype, value, tb)
        elif saved_types and isinstance(value, saved_types):
            saved_handler(etype, value, tb, tb_offset)
        else:  # ours never reached IPython (caught on the way): show this one as usual
            shell.showtraceback()

    shell.set_custom_exc((type(exc), *saved_types), handler)


def _tag_error(run_id: str, exc: BaseException) -> None:
    try:
        fluent.default_client().set_tag(run_id, ERROR_TAG, f"{type(exc).__name__}: {exc}"[:1000])
    except Exception:  # the user's exception matters more than our tag
        pass


def _finish(shell: Any, active, status: str, chart) -> None:
    failing = sys.exc_info()[0] is not None
    try:
        fluent.end_run(status, run_id=active.info.run_id)
    except Exception as exc:
        if not failing:
            raise
        print(f"kernelflow: could not end run {active.info.run_id}: {exc}", file=sys.stderr)
    if chart is not None:
        chart.stop()
    if chart is None or not in_kernel(shell):
        run = fluent.get_run(active.info.run_id)
        print(f"kernelflow: run {run.info.run_name!r} ({run.info.run_id}) {run.info.status} · "
              f"{len(run.data.params)} params · {len(run.data.metrics)} metrics")


# -- end -------------------------------------------------------------------------
@command("end", "end the active run (and runs nested in it)",
         lambda p: p.add_argument("--status", default="FINISHED",
                                  choices=["FINISHED", "FAILED", "KILLED"], help="final status"))
def end(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    run = _need_active_run("end")
    fluent.end_run(args.status, run_id=run.info.run_id)
    print(f"kernelflow: ended run {run.info.run_name!r} ({run.info.run_id}) as {args.status}")


# -- param / metric / tag --------------------------------------------------------
@command("param", "log params to the active run: %kf param lr=0.01 layers=3",
         lambda p: p.add_argument("pairs", nargs="+", metavar="KEY=VALUE"))
def param(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    run = _need_active_run("param")
    fluent.log_params(parse_pairs(args.pairs, "param"), run_id=run.info.run_id)


def _metric_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    p.add_argument("--step", type=int, default=None, help="step of these points (default 0)")


@command("metric", "log metrics to the active run: %kf metric loss=0.3 acc=0.91 --step 5",
         _metric_arguments)
def metric(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    run = _need_active_run("metric")
    fluent.log_metrics(parse_metrics(args.pairs), step=args.step, run_id=run.info.run_id)


@command("tag", "set tags on the active run: %kf tag team=vision stage=tuning",
         lambda p: p.add_argument("pairs", nargs="+", metavar="KEY=VALUE"))
def tag(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    _need_active_run("tag")
    fluent.set_tags(parse_pairs(args.pairs, "tag"))


# -- status / capture / live -----------------------------------------------------
@command("status", "show the tracking URI, the active experiment and run, and what is switched on")
def status(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from ..capture import cell_capture_enabled, history_capture_enabled
    from ..config import get_tracking_uri

    exp = fluent.get_experiment(fluent._current_experiment_id())
    run = fluent.active_run()
    lines = [
        f"tracking URI:  {get_tracking_uri()}",
        f"experiment:    {exp.name!r} (id {exp.experiment_id})",
        f"active run:    {f'{run.info.run_name!r} ({run.info.run_id})' if run else 'none'}",
        f"cell capture:  {'on' if cell_capture_enabled(shell) else 'off'} (%kf capture on|off)",
        f"history capture: {'on' if history_capture_enabled(shell) else 'off'} "
        "(%kf capture history on|off)",
    ]
    print("\n".join(lines))


def _capture_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", nargs="*", metavar="[history] on|off|status",
                   help="`on`/`off`: the hook recording every cell run while a run is active "
                   "(code/cells.py); `history on`/`history off`: record the whole session's "
                   "input history (code/history.py) on each %%kf run")


@command("capture", "opt-in recording: every cell run while a run is active (code/cells.py), "
         "or the session history (%kf capture history on)", _capture_arguments)
def capture(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from .. import capture as cap

    target, state = _capture_target(args.what)
    if target == "history":
        if state != "status":
            cap.enable_history_capture(shell, on=state == "on")
        print(f"kernelflow: history capture is {'on' if cap.history_capture_enabled(shell) else 'off'}")
        return
    if state == "on":
        cap.enable_cell_capture(shell)
    elif state == "off":
        cap.disable_cell_capture(shell)
    print(f"kernelflow: cell capture is {'on' if cap.cell_capture_enabled(shell) else 'off'}")


def _capture_target(words: list[str]) -> tuple[str, str]:
    """``[]``, ``[on]``, ``[history, off]`` ... as (``cells`` or ``history``, state)."""
    target = words[0] if words and words[0] in ("cells", "history") else "cells"
    rest = words[1:] if words and words[0] == target else words
    if len(rest) > 1 or (rest and rest[0] not in ("on", "off", "status")):
        raise UsageError(f"%kf capture: cannot read {' '.join(words)!r}. Use `%kf capture on|off` "
                         "or `%kf capture history on|off`.")
    return target, rest[0] if rest else "status"


def _live_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", nargs="?", help="run id (default: the active run)")
    p.add_argument("-m", "--metric", action="append", metavar="KEY", help="chart only these keys")


@command("live", "show live metric charts of the active run (or RUN) that update while it runs",
         _live_arguments)
def live(shell: Any, args: argparse.Namespace, cell: str | None) -> None:
    from ..widgets.live_chart import live as show_live

    shell.user_ns["_kf_live"] = show_live(args.run, args.metric)
