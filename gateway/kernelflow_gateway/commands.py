"""``kernelflow gateway``, ``%kf gateway`` and ``%%kf llm``, given to the core by entry points.

This module stays light: litellm, Starlette and uvicorn load only when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from kernelflow.cli import store_argument, use_store
from kernelflow.plugins import CliCommand, MagicCommand, require_extra

__all__ = ["gateway_command", "gateway_magic", "llm_magic"]


def _gateway_arguments(p: argparse.ArgumentParser) -> None:
    store_argument(p)
    p.add_argument("--config", metavar="FILE", help="the gateway's YAML config (LiteLLM "
                   "model_list or MLflow endpoints format; default $KERNELFLOW_GATEWAY_CONFIG)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5001, help="port (default 5001)")
    p.add_argument("--token", help="an admin bearer token always accepted "
                   "(default: $KERNELFLOW_GATEWAY_TOKEN)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes; limits "
                   "and budgets are counted in the store (default 1)")
    p.add_argument("--experiment", default="gateway", help="experiment for the call traces "
                   "(default: gateway)")
    p.add_argument("--ray", action="store_true", help="run as a Ray Serve deployment, "
                   "--workers replicas (needs the 'serving' extra)")
    p.add_argument("--address", help="with --ray: a Ray cluster to deploy onto "
                   "(default: start a local Ray)")
    sub = p.add_subparsers(dest="gateway_action", metavar="{keys}",
                           help="keys: manage API keys instead of serving")
    keys = sub.add_parser("keys", help="create, list and revoke gateway API keys")
    keys_sub = keys.add_subparsers(dest="keys_action", metavar="{create,list,revoke}",
                                   help="what to do with keys")
    create = keys_sub.add_parser("create", help="create a key (its secret is shown once)")
    create.add_argument("name_arg", nargs="?", metavar="NAME", help="the key's name")
    create.add_argument("--name", help="the key's name")
    create.add_argument("--budget", type=float, help="spend limit in US dollars")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--tpm", type=int, help="tokens per minute")
    create.add_argument("--routes", help="comma-separated routes it may call (default: all)")
    listing = keys_sub.add_parser("list", help="list keys with their spend")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    revoke = keys_sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("name", help="the key's name")


def _keys(args: argparse.Namespace) -> int:
    import kernelflow

    client = kernelflow.Client()
    action = getattr(args, "keys_action", None)
    if action == "create":
        name = args.name or args.name_arg
        if not name:
            print("kernelflow gateway keys create: give the key a name (--name team-a).",
                  file=sys.stderr)
            return 2
        routes = [r.strip() for r in (args.routes or "").split(",") if r.strip()]
        key = client.create_gateway_key(name, budget=args.budget, rpm=args.rpm, tpm=args.tpm,
                                        routes=routes or None)
        print(f"Created gateway key {key.name!r}. Its secret, shown this once only:\n")
        print(f"    {key.key}\n")
        print("Clients send it as 'Authorization: Bearer <key>' (the OpenAI SDK's api_key).")
        return 0
    if action == "list":
        keys = client.list_gateway_keys(include_revoked=args.all)
        if not keys:
            print("No gateway keys. Create one with: kernelflow gateway keys create NAME")
            return 0
        print(f"{'NAME':20} {'PREFIX':9} {'SPEND':>10} {'BUDGET':>8} {'RPM':>6} {'TPM':>8} "
              "ROUTES")
        for k in keys:
            budget = f"{k.budget:.2f}" if k.budget is not None else "-"
            state = "" if k.active else "  (revoked)"
            print(f"{k.name:20} {k.prefix:9} {k.spend:10.4f} {budget:>8} {k.rpm or '-':>6} "
                  f"{k.tpm or '-':>8} {','.join(k.routes) or 'all'}{state}")
        return 0
    if action == "revoke":
        client.revoke_gateway_key(args.name)
        print(f"Revoked gateway key {args.name!r}.")
        return 0
    print("usage: kernelflow gateway keys {create,list,revoke} ...", file=sys.stderr)
    return 2


def _run_gateway(args: argparse.Namespace) -> int | None:
    use_store(args)
    if args.gateway_action == "keys":
        return _keys(args)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download at import
    require_extra("litellm", "gateway")
    require_extra("uvicorn", "gateway")
    config = args.config or os.environ.get("KERNELFLOW_GATEWAY_CONFIG")
    if not config:
        print("kernelflow gateway: give a config file with --config gateway.yaml "
              "(see the README's gateway section).", file=sys.stderr)
        return 2
    if args.ray:
        require_extra("ray.serve", "serving")
        from .server import serve_on_ray

        serve_on_ray(config, host=args.host, port=args.port, tracking_uri=args.store,
                     experiment=args.experiment,
                     token=args.token or os.environ.get("KERNELFLOW_GATEWAY_TOKEN"),
                     replicas=args.workers, address=args.address)
        return 0
    from .server import serve

    print(f"kernelflow gateway on http://{args.host}:{args.port} (config {config})",
          flush=True)
    serve(config, host=args.host, port=args.port, tracking_uri=args.store,
          experiment=args.experiment,
          token=args.token or os.environ.get("KERNELFLOW_GATEWAY_TOKEN"),
          workers=args.workers)
    return 0


gateway_command = CliCommand(
    name="gateway",
    help="serve the OpenAI-compatible LLM gateway (and manage its API keys)",
    run=_run_gateway,
    add_arguments=_gateway_arguments,
)


# -- %kf gateway / %%kf llm -------------------------------------------------------------
def _magic_gateway_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="the gateway's YAML config")
    p.add_argument("--port", type=int, help="port (default: a free one)")
    p.add_argument("--stop", action="store_true", help="stop the gateway this kernel started")


def _gateway_magic(shell, args: argparse.Namespace, cell: str | None):
    from .background import start_background, stop_background

    if args.stop:
        stop_background()
        return None
    return start_background(args.config, port=args.port)


gateway_magic = MagicCommand(
    name="gateway",
    help="start (or reuse) an LLM gateway in the background; chat() and the llm cell magic "
         "then use it",
    handler=_gateway_magic,
    add_arguments=_magic_gateway_arguments,
)


def _llm_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--route", default="chat", help="the route to call (default: chat)")
    p.add_argument("--system", help="a system message")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="an OpenAI parameter, e.g. -p temperature=0.2 (repeatable)")


def _llm_magic(shell, args: argparse.Namespace, cell: str | None):
    from .llm import run_llm_cell

    return run_llm_cell(shell, cell or "", route=args.route, system=args.system,
                        params=args.param)


llm_magic = MagicCommand(
    name="llm",
    help="send the cell's text ({name} filled from variables) to a gateway route; the "
         "answer streams in as Markdown",
    handler=_llm_magic,
    add_arguments=_llm_arguments,
    cell=True,
)
