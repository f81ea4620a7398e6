"""``kernelflow ui``, provided to the core's CLI through the ``kernelflow.commands`` entry point.

This module stays light: Panel, Bokeh and Tornado load only when the command runs.
"""

from __future__ import annotations

import argparse
import os

from kernelflow.cli import store_argument
from kernelflow.plugins import CliCommand, require_extra


def _ui_arguments(p: argparse.ArgumentParser) -> None:
    store_argument(p)
    p.add_argument("--artifacts", metavar="DIR", help="artifact root (default: next to the store)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--token", help="require this bearer token on every request "
                   "(default: $KERNELFLOW_TOKEN; prefer the variable: other users can read "
                   "a command line with ps)")
    p.add_argument("--allowed-hosts", metavar="HOSTS",
                   help="comma-separated Host names (or patterns like *.example.org; '*' for "
                   "any) the server answers; default: localhost, this machine's names and "
                   "addresses, private-network addresses")
    p.add_argument("--cors-allowed-origins", metavar="ORIGINS",
                   help="comma-separated origins (https://hub.example.org) whose pages may "
                   "write here and open the UI's websocket; default: this server only")
    p.add_argument("--prefix", default="", metavar="PATH",
                   help="serve every page, link, REST route and the websocket under PATH "
                   "(e.g. /kernelflow), for a proxy that forwards full paths; JupyterLab's "
                   "kernelflow extension starts the dashboard this way at {base_url}kernelflow/")
    p.add_argument("--serve-artifacts", action=argparse.BooleanOptionalAction, default=True,
                   help="give clients mlflow-artifacts:/ URIs and proxy artifacts (default, as "
                   "MLflow); --no-serve-artifacts gives them the real paths instead")


def _run_ui(args: argparse.Namespace) -> None:
    require_extra("panel", "dashboard")
    from .server import serve

    serve(
        tracking_uri=args.store, artifact_root=args.artifacts, host=args.host, port=args.port,
        token=args.token or os.environ.get("KERNELFLOW_TOKEN"),
        serve_artifacts=args.serve_artifacts,
        allowed_hosts=args.allowed_hosts, cors_allowed_origins=args.cors_allowed_origins,
        prefix=args.prefix,
    )


ui_command = CliCommand(
    name="ui",
    help="serve the dashboard and the MLflow-compatible REST API on one port",
    run=_run_ui,
    add_arguments=_ui_arguments,
)
