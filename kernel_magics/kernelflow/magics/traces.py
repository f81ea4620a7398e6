"""``%kf traces``: list traces, show one as a span tree, turn the under-cell display on/off."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from .parser import command


def _traces_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("trace_id", nargs="?", help="show this trace as a span tree")
    p.add_argument("-f", "--filter", default=None,
                   help="e.g. \"trace.status = 'ERROR' AND trace.execution_time_ms > 500\"")
    p.add_argument("--max", type=int, default=50, help="rows at most (default 50)")
    p.add_argument("-e", "--experiment", metavar="NAME",
                   help="experiment name (default: every experiment)")
    p.add_argument("--run", metavar="RUN_ID", help="only traces made in this run")
    p.add_argument("--display", choices=("on", "off"),
                   help="show (or stop showing) each cell's traces under it")


@command("traces", "list traces (filter with the search grammar) or show one as a span tree",
         _traces_arguments)
def traces(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    import kernelflow
    from kernelflow.tracing.display import TracesView, TraceTree
    from kernelflow.tracing.notebook import disable_cell_display, enable_cell_display

    if args.display:
        (enable_cell_display if args.display == "on" else disable_cell_display)(shell)
        print(f"kernelflow: traces are {'shown' if args.display == 'on' else 'not shown'} "
              "under cells.")
        return None
    client = kernelflow.Client()
    if args.trace_id:
        return TraceTree([client.get_trace(args.trace_id)])
    if args.max < 1:
        raise UsageError("%kf traces: --max must be at least 1.")
    ids = None
    if args.experiment:
        exp = client.get_experiment_by_name(args.experiment)
        if exp is None:
            raise UsageError(f"%kf traces: no experiment named {args.experiment!r}.")
        ids = [exp.experiment_id]
    return TracesView(client.search_traces(ids, args.filter, args.max, run_id=args.run))
