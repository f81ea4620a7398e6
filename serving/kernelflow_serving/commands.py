"""``kernelflow serve``, ``kernelflow deployments``, ``%kf serve`` and ``%kf deployments``.

Provided to the core through the ``kernelflow.commands`` and ``kernelflow.magics`` entry
points. This module stays light: Ray is imported only when a deployment starts.
``kernelflow serve`` accepts the flags of ``mlflow models serve`` that make sense here
(``-m/--model-uri``, ``-p/--port``, ``-h/--host``, ``-t/--timeout``, ``-w/--workers``), so an
MLflow user's command line works.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import signal
import socket
import threading
import time
from typing import Any

import kernelflow
from kernelflow.cli import store_argument, use_store
from kernelflow.plugins import CliCommand, MagicCommand

STOP_WAIT_S = 60.0


def _autoscale(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition(":")
    try:
        pair = (int(lo), int(hi))
    except ValueError:
        pair = (0, 0)
    if not sep or pair[0] < 1 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"--autoscale takes MIN:MAX with 1 <= MIN <= MAX, not {text!r}")
    return pair


def _serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", "-p", type=int, default=8000, help="HTTP port (default 8000)")
    p.add_argument("--name", help="deployment name (default: the model's name)")
    p.add_argument("--replicas", "-w", "--workers", type=int, default=1, dest="replicas",
                   help="replicas (mlflow's -w/--workers means the same; default 1)")
    p.add_argument("--autoscale", type=_autoscale, metavar="MIN:MAX",
                   help="let Ray Serve scale between MIN and MAX replicas")
    p.add_argument("--max-batch-size", type=int, default=32,
                   help="requests batched into one predict call at most (default 32)")
    p.add_argument("--batch-wait-ms", type=float, default=5.0,
                   help="how long a batch waits to fill, in ms (default 5)")
    p.add_argument("--timeout", "-t", type=float, default=60.0,
                   help="seconds a request may take before a 504 (default 60)")
    p.add_argument("--poll-interval", type=float, default=2.0,
                   help="seconds between checks of a followed alias (default 2)")
    p.add_argument("--trace", action="store_true",
                   help="record each request as a trace (continues an incoming traceparent)")
    p.add_argument("--multiplex", action="store_true",
                   help="several models share replicas (Ray Serve model multiplexing): each "
                   "replica loads the models asked of it on demand and keeps at most "
                   "--max-models-per-replica, evicting the least recently used")
    p.add_argument("--max-models-per-replica", type=int, metavar="N",
                   help="with --multiplex (implies it): models loaded per replica at most "
                   "(default 2)")


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    # mlflow's -h means --host; --help still shows the help
    p.conflict_handler = p._optionals.conflict_handler = "resolve"
    store_argument(p)
    p.add_argument("models", nargs="*", metavar="MODEL_URI",
                   help="models:/name@alias, models:/name/3, models:/name/Production, a path; "
                   "several are served at /models/<name>/invocations")
    p.add_argument("--model-uri", "-m", action="append", default=[], dest="model_uris",
                   help="a model URI (mlflow's flag; repeatable)")
    p.add_argument("--host", "-h", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    _serve_options(p)
    p.add_argument("--all-aliases", metavar="MODEL",
                   help="serve every aliased version of MODEL, one route per alias")
    p.add_argument("--address", help="a Ray cluster to deploy onto (ray://host:10001 or auto; "
                   "default $RAY_ADDRESS or a new local Ray)")
    p.add_argument("--ingress", choices=("direct", "proxy"),
                   help="direct: each replica answers HTTP itself (fastest; default on a local "
                   "Ray); proxy: Ray Serve's HTTP proxy (default with --address)")
    p.add_argument("--list", action="store_true", help="list the recorded deployments and exit")
    p.add_argument("--stop", metavar="NAME", help="stop a running deployment and exit")
    p.add_argument("--env-manager", help="accepted for mlflow compatibility; the current "
                   "environment is always used")
    p.add_argument("--no-conda", action="store_true", help=argparse.SUPPRESS)


def _model_uris(args: argparse.Namespace) -> list[str]:
    uris = list(args.models) + list(args.model_uris)
    if args.all_aliases:
        model = kernelflow.Client().get_registered_model(args.all_aliases)
        if not model.aliases:
            raise kernelflow.KernelflowError(
                f"Model {args.all_aliases!r} has no aliases; set one with "
                "Client().set_registered_model_alias(name, alias, version).")
        uris += [f"models:/{args.all_aliases}@{a}" for a in sorted(model.aliases)]
    return uris


def _run_serve(args: argparse.Namespace) -> int:
    use_store(args)
    if args.list:
        _print_deployments()
        return 0
    if args.stop:
        return stop_deployment(args.stop)
    uris = _model_uris(args)
    if not uris:
        raise kernelflow.InvalidParameterError(
            "Give a model to serve, e.g. kernelflow serve models:/digits@champion "
            "(or -m URI as with mlflow models serve).")
    from .api import serve

    handle = serve(uris, name=args.name, host=args.host, port=args.port, replicas=args.replicas,
                   autoscale=args.autoscale, max_batch_size=args.max_batch_size,
                   batch_wait_ms=args.batch_wait_ms, timeout=args.timeout,
                   poll_interval=args.poll_interval, address=args.address, trace=args.trace,
                   owner="cli", ingress=args.ingress, multiplex=args.multiplex,
                   max_models_per_replica=args.max_models_per_replica)
    for route, r in handle.models.items():
        where = "/invocations" if len(handle.models) == 1 else f"/models/{route}/invocations"
        version = f" version {r.version}" if r.version else ""
        follows = f" (follows @{r.alias})" if r.alias else ""
        print(f"kernelflow: serving {r.uri}{version}{follows} at {handle.url}{where}", flush=True)
    print("kernelflow: press Ctrl+C to stop", flush=True)
    _wait_for_signal()
    handle.stop()
    print(f"kernelflow: stopped {handle.name}", flush=True)
    return 0


def _wait_for_signal() -> None:
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    while not done.wait(0.5):
        pass


def stop_deployment(name: str) -> int:
    """Stop a deployment started by another process (``kernelflow serve --stop NAME``).

    The process that serves it is signalled when it runs on this machine; a deployment on
    a Ray cluster is deleted there. Returns an exit code.
    """
    client = kernelflow.Client()
    dep = client.get_deployment(name)
    if dep.status in ("STOPPED", "FAILED"):
        print(f"kernelflow: {name} is already {dep.status}")
        return 0
    owner = json.loads(dep.config or "{}").get("owner")
    local = dep.pid and dep.host == socket.gethostname() and _alive(dep.pid)
    if local and owner != "cli":
        raise kernelflow.KernelflowError(
            f"{name} is served from inside process {dep.pid} (a notebook or script), which "
            "this command will not signal. Stop it there: handle.stop() or "
            f"%kf serve --stop {name}.")
    if local:
        os.kill(dep.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while _alive(dep.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(dep.pid):
            raise kernelflow.KernelflowError(
                f"Process {dep.pid} serving {name} did not stop within {STOP_WAIT_S:.0f}s.")
    elif dep.ray_address:
        import ray
        from ray import serve

        ray.init(address=dep.ray_address, include_dashboard=False, log_to_driver=False)
        try:
            serve.delete(name)
        finally:
            ray.shutdown()
    client.record_deployment(name, status="STOPPED")
    print(f"kernelflow: stopped {name}")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own exited child) is not serving anything
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def _rows() -> list[dict[str, Any]]:
    rows = []
    for d in kernelflow.Client().list_deployments():
        row = d.to_dict()
        row["updated"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(d.updated_time / 1000)) \
            if d.updated_time else ""
        rows.append(row)
    return rows


def _print_deployments() -> None:
    rows = _rows()
    if not rows:
        print("No deployments recorded. Start one with: kernelflow serve models:/NAME@ALIAS")
        return
    print(f"{'NAME':<24} {'STATUS':<9} {'MODEL':<32} {'VERSION':<8} {'URL':<30} UPDATED")
    for r in rows:
        print(f"{r['name']:<24} {r['status']:<9} {r['model_uri']:<32} "
              f"{r['model_version'] or '':<8} {r['url'] or '':<30} {r['updated']}")
        if r["last_error"] and r["status"] == "FAILED":
            print(f"  error: {r['last_error']}")


def _run_deployments(args: argparse.Namespace) -> int:
    use_store(args)
    if args.json:
        print(json.dumps(_rows(), indent=2))
    else:
        _print_deployments()
    return 0


def _deployments_arguments(p: argparse.ArgumentParser) -> None:
    store_argument(p)
    p.add_argument("--json", action="store_true", help="print the rows as JSON")


serve_command = CliCommand(
    name="serve",
    help="serve registry models on Ray Serve with MLflow's scoring protocol (/invocations)",
    run=_run_serve,
    add_arguments=_serve_arguments,
)

deployments_command = CliCommand(
    name="deployments",
    help="list served models: URI, version, URL, status",
    run=_run_deployments,
    add_arguments=_deployments_arguments,
)


# -- %kf serve / %kf deployments ---------------------------------------------------
def _magic_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="*", metavar="MODEL_URI",
                   help="digits@champion, models:/digits/3, ... (several: one route each)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    _serve_options(p)
    p.add_argument("--stop", metavar="NAME", help="stop a deployment started in this kernel")


def _magic_serve(shell: Any, args: argparse.Namespace, cell: Any = None) -> Any:
    from IPython.display import HTML, display

    from .api import running, serve

    if args.stop:
        handle = running().get(args.stop)
        if handle is None:
            raise kernelflow.KernelflowError(
                f"No deployment {args.stop!r} runs in this kernel; running: "
                f"{', '.join(running()) or 'none'}.")
        handle.stop()
        display(HTML(f"<span>stopped <b>{html.escape(args.stop)}</b></span>"))
        return None
    if not args.models:
        raise kernelflow.InvalidParameterError("Give a model to serve, e.g. %kf serve digits@champion")
    handle = _reuse(args.models) or serve(
        args.models, name=args.name, host=args.host, port=args.port, replicas=args.replicas,
        autoscale=args.autoscale, max_batch_size=args.max_batch_size,
        batch_wait_ms=args.batch_wait_ms, timeout=args.timeout, poll_interval=args.poll_interval,
        trace=args.trace, multiplex=args.multiplex,
        max_models_per_replica=args.max_models_per_replica)
    display(HTML(serving_html(handle)))
    return handle


def _reuse(uris: list[str]) -> Any:
    from .api import running
    from .model import normalize_uri

    wanted = sorted(normalize_uri(u) for u in uris)
    for handle in running().values():
        if sorted(r.uri for r in handle.models.values()) == wanted:
            return handle
    return None


def serving_html(handle: Any) -> str:
    """The ``%kf serve`` output: URL, status, a curl example and a sample prediction."""
    esc = html.escape
    route, resolved = next(iter(handle.models.items()))
    path = "/invocations" if len(handle.models) == 1 else f"/models/{route}/invocations"
    example = _input_example(resolved.load_uri)
    payload = json.dumps(example or {"inputs": [[0.0]]})
    curl = (f"curl -s {handle.url}{path} -H 'Content-Type: application/json' "
            f"-d '{payload[:400]}'")
    sample = ""
    if example is not None:
        try:
            import requests

            resp = requests.post(handle.url + path, json=example, timeout=60)
            sample = (f"<div>sample prediction ({resp.status_code}, version "
                      f"{esc(resp.headers.get('X-Kernelflow-Model-Version', '?'))}): "
                      f"<code>{esc(resp.text[:400])}</code></div>")
        except Exception as exc:
            sample = f"<div>sample prediction failed: {esc(str(exc))}</div>"
    status = handle.status().get("status", "?")
    return (f"<div class='kernelflow-serving'><b>{esc(handle.name)}</b> "
            f"<span>{esc(status)}</span> at <a href='{esc(handle.url)}/ping' target='_blank'>"
            f"{esc(handle.url)}</a> serving {esc(resolved.uri)} (version "
            f"{esc(resolved.version or '-')})<pre>{esc(curl)}</pre>{sample}</div>")


def _input_example(uri: str) -> dict | None:
    """The model's saved input example as an ``/invocations`` payload, or None."""
    try:
        example = kernelflow.load_model(uri).input_example
    except Exception:
        return None
    if example is None:
        return None
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        return {"dataframe_split": json.loads(example.to_json(orient="split", index=False))}
    if hasattr(example, "tolist"):
        return {"inputs": example.tolist()}
    return {"inputs": example}


def _magic_deployments(shell: Any, args: argparse.Namespace, cell: Any = None) -> None:
    from IPython.display import HTML, display

    display(HTML(deployments_html(_rows())))


def deployments_html(rows: list[dict[str, Any]]) -> str:
    """The ``%kf deployments`` table."""
    if not rows:
        return "<p>No deployments recorded. Start one with <code>%kf serve NAME@ALIAS</code>.</p>"
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("name", "status", "model", "version", "alias",
                                            "url", "replicas", "updated", "last error"))
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(str(r[k] or ''))}</td>" for k in (
            "name", "status", "model_uri", "model_version", "alias", "url", "replicas",
            "updated", "last_error")) + "</tr>" for r in rows)
    return f"<table class='kernelflow-deployments'><tr>{head}</tr>{body}</table>"


serve_magic = MagicCommand(
    name="serve",
    help="serve a registered model on Ray Serve in the background (reuses a running one)",
    handler=_magic_serve,
    add_arguments=_magic_serve_arguments,
)

deployments_magic = MagicCommand(
    name="deployments",
    help="list served models from the store",
    handler=_magic_deployments,
)

__all__ = ["deployments_command", "deployments_magic", "serve_command", "serve_magic",
           "stop_deployment"]
