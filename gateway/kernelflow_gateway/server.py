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


def _ray_builder(env: dict[str, str]) -> Any:
    """The app builder a Ray Serve replica calls: the same app, configured from ``env``."""

    def build() -> Any:
        os.environ.update(env)
        return app_from_env()

    return build


def build_ray_app(env: dict[str, str], replicas: int = 1, num_cpus: float = 0.5) -> Any:
    """The gateway as a Ray Serve application (``serve.run(build_ray_app(...))``).

    Args:
        env: the ``KERNELFLOW_GATEWAY_*`` / ``KERNELFLOW_TRACKING_URI`` settings of the replicas.
        replicas: how many replicas; limits and budgets are counted in the store.
        num_cpus: CPUs reserved per replica.
    """
    from ray import serve

    @serve.deployment(name="kernelflow-gateway", num_replicas=replicas,
                      ray_actor_options={"num_cpus": num_cpus})
    @serve.ingress(_ray_builder(env))
    class KernelflowGateway:
        """Each replica runs the gateway's ASGI app over its own litellm.Router."""

    return KernelflowGateway.bind()


def serve_on_ray(config_path: str, host: str = "127.0.0.1", port: int = 5001,
                 tracking_uri: str | None = None, experiment: str = "gateway",
                 token: str | None = None, replicas: int = 1,
                 address: str | None = None) -> None:
    """Serve the gateway as a Ray Serve deployment until interrupted (blocks).

    Ray (started here, or the cluster at ``address``) and the deployment are shut down on
    Ctrl+C or SIGTERM, leaving no Ray process behind.
    """
    import signal
    import threading

    import ray
    from ray import serve

    import kernelflow

    from .config import load_config

    load_config(config_path)
    env = {ENV_CONFIG: os.path.abspath(config_path), ENV_EXPERIMENT: experiment,
           ENV_SHARED: "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "KERNELFLOW_TRACKING_URI": tracking_uri or kernelflow.get_tracking_uri()}
    if token:
        env[ENV_TOKEN] = token

    done = threading.Event()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False,
                 log_to_driver=os.environ.get("KERNELFLOW_RAY_LOGS") == "1")
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(build_ray_app(env, replicas), name="kernelflow-gateway", route_prefix="/")
        print(f"kernelflow gateway on Ray Serve at http://{host}:{port}", flush=True)
        # after ray.init, which installs handlers of its own: stop between steps, cleanly
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        while not done.wait(0.5):
            pass
    finally:
        serve.shutdown()
        if started:
            ray.shutdown()
