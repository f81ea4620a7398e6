"""``%kf evaluate``: evaluate a model on a DataFrame in the kernel; metrics and plots under the cell."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from .parser import command


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL",
                   help="a model URI (models:/digits@champion, runs:/ID/model) or a kernel "
                        "variable holding a model")
    p.add_argument("data", metavar="DATA_VAR", help="kernel variable holding the data (a DataFrame)")
    p.add_argument("--targets", "-t", required=True, metavar="COL", help="the label column")
    p.add_argument("--model-type", "-m", default="classifier",
                   choices=("classifier", "regressor"), help="default: classifier")
    p.add_argument("--baseline", metavar="MODEL", help="a baseline model (URI or variable)")
    p.add_argument("--features", metavar="COLS",
                   help="comma-separated feature columns (default: every column but the label)")


def _lookup(shell: Any, name: str, what: str, uri_ok: bool) -> Any:
    ns = shell.user_ns if shell is not None else {}
    if name in ns:
        return ns[name]
    if uri_ok and (":/" in name or "/" in name):
        return name
    raise UsageError(f"%kf evaluate: no kernel variable named {name!r} for the {what}"
                     + (" (and it is not a model URI like models:/name@alias)." if uri_ok else "."))


@command("evaluate", "evaluate a model on a DataFrame: metrics and plots under the cell, "
         "logged to the active run (or a new one)", _arguments)
def evaluate(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    from ..evaluation import evaluate as run_evaluation

    model = _lookup(shell, args.model, "model", uri_ok=True)
    data = _lookup(shell, args.data, "data", uri_ok=False)
    baseline = _lookup(shell, args.baseline, "baseline", uri_ok=True) if args.baseline else None
    features = [c.strip() for c in args.features.split(",")] if args.features else None
    return run_evaluation(model, data, targets=args.targets, model_type=args.model_type,
                          baseline_model=baseline, feature_names=features)
