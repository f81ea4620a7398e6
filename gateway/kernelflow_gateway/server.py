"""Running the gateway: uvicorn in this process, with N workers, or in the background.

``serve()`` is what ``kernelflow gateway`` calls. With ``workers > 1`` uvicorn starts
worker processes that each build the app from the environment (:func:`app_from_env`);
rate limits are then counted in the store so every worker sees the same totals.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["serve", "build_gateway", "app_from_env"]

ENV_CONFIG = "KERNELFLOW_GATEWAY_CONFIG"
ENV_TOKEN = "KERNELFLOW_GATEWAY_TOKEN"
ENV_EXPERIMENT = "KERNELFLOW_GATEWAY_EXPERIMENT"
ENV_SHARED = "KERNELFLOW_GATEWAY_SHARED_LIMITS"


def build_gateway(config_path: str, tracking_uri: str | None = None,
                  experiment: str = "gateway", token: str | None = None,
                  shared_limits: bool = False) -> Any:
    """A :class:`~kernelflow_gateway.router.Gateway` from a config file and a store.

    Args:
        config_path: the YAML config.
        tracking_uri: the store that records keys, calls and traces (default: the current).
        experiment: the experiment traces go to.
        token: an admin bearer token (None: keys only, or open when there are none).
        shared_limits: count rate limits in the store (several workers).
    """
    import kernelflow

    from .config import load_config
    from .router import Gateway

    config = load_config(config_path)
    client = kernelflow.Client(tracking_uri) if tracking_uri else kernelflow.Client()
    return Gateway(config, client=client, experiment=experiment, token=token,
                   shared_limits=shared_limits, process_wide=True)


def app_from_env() -> Any:
    """The ASGI app built from ``KERNELFLOW_GATEWAY_*`` variables (for uvicorn workers)."""
    from .app import create_app

    gateway = build_gateway(
        os.environ[ENV_CONFIG], os.environ.get("KERNELFLOW_TRACKING_URI"),
        experiment=os.environ.get(ENV_EXPERIMENT, "gateway"),
        token=os.environ.get(ENV_TOKEN) or None,
        shared_limits=os.environ.get(ENV_SHARED) == "1")
    app = create_app(gateway, watch=True)
    _quiet_gc()
    return app


def _quiet_gc() -> None:
    """Keep the garbage collector off the objects loaded at start (litellm's are many).

    Without this, full collections walk litellm's large heap every few hundred requests and
    show up as p99 stalls of hundreds of milliseconds.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def serve(config_path: str, host: str = "127.0.0.1", port: int = 5001,
          tracking_uri: str | None = None, experiment: str = "gateway",
          token: str | None = None, workers: int = 1, log_level: str = "warning") -> None:
    """Serve the gateway until interrupted (blocks).

    Args:
        config_path: the YAML config (validated before anything starts).
        host: the address to bind.
        port: the port.
        tracking_uri: the store for keys, calls and traces.
        experiment: the experiment traces go to.
        token: an admin bearer token.
        workers: uvicorn worker processes.
        log_level: uvicorn's log level.
    """
    import uvicorn

    from .config import load_config

    load_config(config_path)  # fail fast, with the field named, before binding the port
    os.environ[ENV_CONFIG] = os.path.abspath(config_path)
    os.environ[ENV_EXPERIMENT] = experiment
    if tracking_uri:
        os.environ["KERNELFLOW_TRACKING_URI"] = tracking_uri
    if token:
        os.environ[ENV_TOKEN] = token
    os.environ[ENV_SHARED] = "1" if workers > 1 else "0"
    if workers > 1:
        uvicorn.run("kernelflow_gateway.server:app_from_env", factory=True, host=host,
                    port=port, workers=workers, log_level=log_level, access_log=False)
        return
    uvicorn.run(app_from_env(), host=host, port=port, log_level=log_level, access_log=False)
