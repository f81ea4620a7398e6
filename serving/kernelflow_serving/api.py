"""``serve()``: put registry models on Ray Serve and record the deployment in the store.

Ray is imported when ``serve`` is called, never when this package is imported. The
process that calls ``serve`` drives the deployment: when it started Ray itself, stopping
the last deployment (or interpreter exit) shuts Ray down, so nothing is left running.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import kernelflow
from kernelflow.plugins import require_extra

from .model import Resolved, normalize_uri, resolve
from .phases import mark

_lock = threading.RLock()
_running: dict[str, ServingHandle] = {}
_state: dict[str, Any] = {"owns_ray": False, "http": None, "atexit": False}


@dataclass
class ServingHandle:
    """A running deployment.

    Attributes:
        name: the deployment's name (its row in the store).
        url: the base URL; POST to ``{url}/invocations``.
        models: the served models, ``{route name: Resolved}``.
        tracking_uri: the store the deployment is recorded in.
    """

    name: str
    url: str
    models: dict[str, Resolved]
    tracking_uri: str
    ray_address: str | None = None
    _stopped: bool = field(default=False, repr=False)

    def predict(self, data: Any, params: dict | None = None, model: str | None = None) -> Any:
        """Score ``data`` over HTTP, as any client would.

        Args:
            data: a DataFrame (sent as ``dataframe_split``), or a list / array / dict (sent as
                ``inputs``).
            params: inference parameters.
            model: the served model to ask when several are served.

        Returns:
            The ``predictions`` of the answer.

        Raises:
            kernelflow.KernelflowError: the server answered with an error (its message).
        """
        import requests

        payload = _payload(data)
        if params:
            payload["params"] = params
        target = f"{self.url}/models/{model}/invocations" if model else f"{self.url}/invocations"
        resp = requests.post(target, data=json.dumps(payload, default=_plain),
                             headers={"Content-Type": "application/json"}, timeout=120)
        if resp.status_code != 200:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text
            raise kernelflow.KernelflowError(
                f"{self.name} answered {resp.status_code}: {message}")
        return resp.json()["predictions"]

    def status(self) -> dict[str, Any]:
        """The deployment as the store records it, with Ray Serve's view of the application."""
        row = kernelflow.Client(self.tracking_uri).get_deployment(self.name).to_dict()
        if not self._stopped:
            try:
                from ray import serve

                app = serve.status().applications.get(self.name)
                row["serve_status"] = str(app.status) if app else "NOT_FOUND"
            except Exception as exc:  # Ray gone: the store's row still answers
                row["serve_status"] = f"unknown ({type(exc).__name__})"
        return row

    def stop(self) -> None:
        """Delete the application; shut Ray down when this process started it and nothing
        else of ours runs on it. Records the deployment as STOPPED."""
        with _lock:
            if self._stopped:
                return
            self._stopped = True
            _running.pop(self.name, None)
            try:
                from ray import serve

                serve.delete(self.name, _blocking=True)
            except Exception:
                pass
            _record(self.tracking_uri, self.name, self.models, status="STOPPED")
            if not _running:
                _shutdown()

    def __enter__(self) -> ServingHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(r)}</td><td>{html.escape(v.uri)}</td>"
            f"<td>{html.escape(v.version or '')}</td><td>{html.escape(v.alias or '')}</td></tr>"
            for r, v in self.models.items())
        state = "stopped" if self._stopped else "running"
        return (f"<div><b>{html.escape(self.name)}</b> ({state}) at "
                f"<a href='{html.escape(self.url)}/ping' target='_blank'>{html.escape(self.url)}"
                "</a><table><tr><th>model</th><th>URI</th><th>version</th><th>alias</th></tr>"
                f"{rows}</table></div>")


def _payload(data: Any) -> dict:
    try:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return {"dataframe_split": json.loads(data.to_json(orient="split", index=False))}
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    return {"inputs": data}


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def serve(
    model_uri: str | list[str],
    *,
    name: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    replicas: int = 1,
    autoscale: tuple[int, int] | None = None,
    max_batch_size: int = 32,
    batch_wait_ms: float = 5.0,
    timeout: float = 60.0,
    poll_interval: float = 2.0,
    max_body_mb: float = 64.0,
    address: str | None = None,
    tracking_uri: str | None = None,
    replica_cpus: float = 0.25,
    trace: bool = False,
    owner: str = "python",
    ingress: str | None = None,
    multiplex: bool = False,
    max_models_per_replica: int | None = None,
) -> ServingHandle:
    """Serve registry models on Ray Serve with MLflow's scoring protocol.

    Args:
        model_uri: one URI or several (``models:/digits@champion``, ``models:/digits/3``,
            ``digits@champion``, a path); several are served at ``/models/<name>/invocations``.
        name: the deployment's name (default: the model's name).
        host: the address HTTP is served on.
        port: the HTTP port: one per deployment with direct ingress; with the proxy, one per
            Ray cluster, shared by its deployments (each under ``/<name>`` after the first).
        replicas: the number of replicas (ignored with ``autoscale``).
        autoscale: ``(min, max)`` replicas, scaled by Ray Serve on ongoing requests.
        max_batch_size: requests batched into one ``predict`` call at most.
        batch_wait_ms: how long a batch waits to fill.
        timeout: seconds a request may take before a 504.
        poll_interval: seconds between checks of a followed alias.
        max_body_mb: a larger request body gets a 413.
        address: a Ray cluster (``ray://host:10001`` or ``auto``); default ``$RAY_ADDRESS``
            or a new local Ray.
        tracking_uri: the store with the registry; default the current tracking URI.
        replica_cpus: CPUs reserved per replica (fractions allowed).
        trace: record each ``/invocations`` request as a trace in the store (continuing an
            incoming W3C ``traceparent``).
        ingress: ``"direct"`` (each replica answers HTTP on the port itself: the fastest, one
            machine) or ``"proxy"`` (Ray Serve's HTTP proxy: every node of a cluster);
            default direct on a local Ray, proxy with ``address``.
        owner: who drives the deployment (``"cli"`` lets ``kernelflow serve --stop`` signal
            the process; a notebook or script is never signalled).
        multiplex: share replicas between the models through Ray Serve's model
            multiplexing: a router deployment answers HTTP and sends each request to a pool
            replica that loads models on demand, at most ``max_models_per_replica`` each
            (least recently used evicted). Implied by ``max_models_per_replica``.
        max_models_per_replica: the LRU bound per pool replica (default 2).

    Returns:
        A :class:`ServingHandle` with ``url``, ``predict``, ``status`` and ``stop``.

    Raises:
        kernelflow.ResourceNotFoundError: an unknown model, version or alias (listing
            what exists).
        kernelflow.KernelflowError: a busy port, or the deployment failed (it is
            recorded FAILED with the reason, and Ray is shut down if we started it).
    """
    mark("serve() called")
    uris = [model_uri] if isinstance(model_uri, str) else list(model_uri)
    if not uris:
        raise kernelflow.InvalidParameterError("serve() needs at least one model URI.")
    _check_numbers(replicas=replicas, max_batch_size=max_batch_size, batch_wait_ms=batch_wait_ms,
                   timeout=timeout, poll_interval=poll_interval, max_body_mb=max_body_mb)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise kernelflow.InvalidParameterError(f"port must be 1-65535, not {port!r}.")
    multiplex = bool(multiplex or max_models_per_replica is not None)
    if multiplex:
        max_models_per_replica = 2 if max_models_per_replica is None else max_models_per_replica
        if isinstance(max_models_per_replica, bool) or not isinstance(
                max_models_per_replica, int) or max_models_per_replica < 1:
            raise kernelflow.InvalidParameterError(
                "max_models_per_replica must be a whole number >= 1, not "
                f"{max_models_per_replica!r}.")
    client = kernelflow.Client(tracking_uri)
    tracking_uri = _absolute(client.tracking_uri)
    resolved = {}
    for uri in uris:
        r = resolve(normalize_uri(uri), client)
        route = r.name if r.name not in resolved else f"{r.name}@{r.alias or r.version}"
        if route in resolved:
            raise kernelflow.InvalidParameterError(f"{uri} is given twice; serve it once.")
        resolved[route] = r
    name = name or "-".join(dict.fromkeys(r.name for r in resolved.values()))
    require_extra("ray.serve", "serving")
    with _lock:
        if name in _running:
            raise kernelflow.ResourceExistsError(
                f"A deployment named {name!r} is already running at {_running[name].url}; "
                "stop it first or pass another name.")
        address = address or os.environ.get("RAY_ADDRESS") or None
        ingress = ingress or ("proxy" if address else "direct")
        if ingress not in ("direct", "proxy"):
            raise kernelflow.InvalidParameterError(
                f"ingress must be 'direct' or 'proxy', not {ingress!r}.")
        if ingress == "direct":
            _check_direct_port(host, port)
            _start_ray(address, host, port, proxy=False)
            prefix, url = None, _base_url(host, port)
        else:
            _start_ray(address, host, port)
            prefix = "/" if not any(h.url.rstrip("/") == _base_url(host, port) for h in
                                    _running.values()) else f"/{name}"
            url = _base_url(*_state["http"]) + ("" if prefix == "/" else prefix)
        config = {"max_batch_size": max_batch_size, "batch_wait_ms": batch_wait_ms,
                  "timeout_s": timeout, "poll_interval_s": poll_interval,
                  "max_body_mb": max_body_mb, "trace": bool(trace)}
        if multiplex:
            config["max_models_per_replica"] = max_models_per_replica
        replicas_text = f"{autoscale[0]}:{autoscale[1]}" if autoscale else str(replicas)
        _record(tracking_uri, name, resolved, status="STARTING", url=url, replicas=replicas_text,
                host=socket.gethostname(), pid=os.getpid(), ray_address=address,
                config=json.dumps({**config, "owner": owner}), last_error=None, first=True)
        handle = ServingHandle(name, url, resolved, tracking_uri, address)
        _deploy(handle, config, replicas, autoscale, replica_cpus, prefix,
                (host, port) if ingress == "direct" else None)
        _running[name] = handle
        _record(tracking_uri, name, resolved, status="RUNNING")
        mark("recorded RUNNING")
        return handle


def _check_numbers(**values: float) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise kernelflow.InvalidParameterError(f"{key} must be a positive number, not {value!r}.")


def _absolute(uri: str) -> str:
    """A tracking URI that means the same file from a replica's working directory."""
    if uri.startswith(("http://", "https://")):
        return uri
    path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else uri
    return "sqlite:///" + os.path.abspath(path)


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _check_direct_port(host: str, port: int) -> None:
    for other in _running.values():
        if other.url.rstrip("/") == _base_url(host, port):
            raise kernelflow.KernelflowError(
                f"Port {port} already serves deployment {other.name!r}; give this one another "
                "--port.")
    if not _port_free(host, port):
        raise kernelflow.KernelflowError(
            f"Port {port} on {host} is already in use. Choose another with --port, or stop "
            "what listens there.")


def _start_ray(address: str | None, host: str, port: int, proxy: bool = True) -> None:
    import ray
    from ray import serve

    if not ray.is_initialized():
        _state["http"] = None  # Ray went away (shut down by someone else): start afresh
    if not proxy:
        if not ray.is_initialized():
            _init(address)
        if _state["http"] is None:
            serve.start(proxy_location="Disabled")
            mark("serve controller up")
            _state["http"] = ("direct", 0)
        _register_exit()
        return
    if _state["http"] == ("direct", 0) and _running:
        raise kernelflow.KernelflowError(
            "Ray Serve runs without its HTTP proxy here (direct ingress) and cannot start one "
            "now; serve with ingress='direct', or stop the running deployments first.")
    if _state["http"] is not None and _state["http"] != ("direct", 0):
        if _state["http"] != (host, port):
            raise kernelflow.KernelflowError(
                f"Ray Serve already listens on {_base_url(*_state['http'])} in this process; "
                "all deployments of one Ray cluster share its port. Leave out --port/--host, "
                "or stop the running deployments first.")
        return
    if not ray.is_initialized():
        if address is None and not _port_free(host, port):
            raise kernelflow.KernelflowError(
                f"Port {port} on {host} is already in use. Choose another with --port, or stop "
                "what listens there.")
        _init(address)
    try:
        serve.start(http_options={"host": host, "port": port}, proxy_location="HeadOnly")
    except Exception as exc:
        _shutdown()
        raise kernelflow.KernelflowError(
            f"Ray Serve could not start its HTTP proxy on {host}:{port}: {exc}") from None
    _state["http"] = (host, port)
    _register_exit()


def _register_exit() -> None:
    if not _state["atexit"]:
        atexit.register(stop_all)
        _state["atexit"] = True


def _init(address: str | None) -> None:
    mark("ray imported")
    try:
        init_ray(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        mark("ray.init done")
    except ConnectionError as exc:
        raise kernelflow.KernelflowError(
            f"Cannot reach the Ray cluster at {address}: {exc}. Start it with "
            "'ray start --head' or check the address.") from None
    except Exception as exc:
        raise kernelflow.KernelflowError(
            f"Ray could not start: {exc} On a busy machine, try again; with --address, "
            "check the cluster.") from None
    _state["owns_ray"] = address is None


def init_ray(attempts: int = 3, lean: bool = True, **options: Any) -> None:
    """``ray.init(**options)``, tried again when a loaded machine makes Ray's node miss its
    fixed 30 s startup deadline (Ray then says "timed out during startup").

    Args:
        attempts: how many times to try.
        lean: when this starts a new local Ray, start only what serving uses (see
            :func:`lean_ray_start`).
        options: for ``ray.init``.
    """
    import ray

    local = options.get("address") is None and not os.environ.get("RAY_ADDRESS")
    for attempt in range(attempts):
        try:
            if lean and local:
                with lean_ray_start():
                    config = {**LEAN_SYSTEM_CONFIG, **options.pop("_system_config", {})}
                    ray.init(**options, _system_config=config)
            else:
                ray.init(**options)
            return
        except Exception as exc:
            if "timed out during startup" not in str(exc) or attempt == attempts - 1:
                raise
            ray.shutdown()


# No workers prestarted for queued work (the two Ray starts for the first driver stay: they
# become Serve's controller and first replica). Measured on two cores: first 200 ~8.3 s
# median against ~10.2 s with prestarting and ~10.9 s for a default ray.init (load ~2.5).
LEAN_SYSTEM_CONFIG = {"enable_worker_prestart": False}


@contextlib.contextmanager
def lean_ray_start():
    """While ``ray.init`` starts a local node: skip the processes serving never uses.

    A local node normally also starts the autoscaler's monitor, the log monitor (which
    streams worker logs to the driver; serving passes ``log_to_driver=False``) and the
    dashboard's API server (``include_dashboard=False`` still starts it, and ``ray.init``
    waits for it before starting the raylet). On two cores these Python processes take
    seconds of CPU while the node starts; without them Ray Serve works the same (its
    controller, replicas, ``serve.status`` and ``list_named_actors`` talk to the GCS and
    the raylet). These are Ray internals: if they are not where expected, Ray starts as usual.
    """
    patched = []
    try:
        from ray._private import node, parameter

        original_params = parameter.RayParams.__init__
        original_api = node.Node.start_api_server

        def params_init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_params(self, *args, **kwargs)
            self.no_monitor = True
            self.include_log_monitor = False

        def no_api_server(self: Any, **kwargs: Any) -> None:
            return None

        parameter.RayParams.__init__ = params_init
        patched.append((parameter.RayParams, "__init__", original_params))
        node.Node.start_api_server = no_api_server
        patched.append((node.Node, "start_api_server", original_api))
    except (ImportError, AttributeError):
        pass
    try:
        yield
    finally:
        for owner, attr, value in patched:
            setattr(owner, attr, value)


def _deploy(handle: ServingHandle, config: dict, replicas: int,
            autoscale: tuple[int, int] | None, replica_cpus: float, prefix: str | None,
            direct: tuple[str, int] | None) -> None:
    from ray import serve

    from .app import build, deployment_options

    models = {r: v.uri for r, v in handle.models.items()}
    options = deployment_options(replicas, autoscale, replica_cpus, config["max_batch_size"])
    if config.get("max_models_per_replica"):
        from .multiplex import build_multiplexed

        app = build_multiplexed(handle.name, models, handle.tracking_uri, options=options,
                                user_config=config,
                                max_models_per_replica=config["max_models_per_replica"],
                                direct=direct)
    else:
        app = build(handle.name, models, handle.tracking_uri, options=options,
                    user_config=config, direct=direct)
    try:
        serve.run(app, name=handle.name, route_prefix=prefix, blocking=False)
        mark("serve.run: application RUNNING")
    except Exception as exc:
        reason = _failure_reason(exc, _status_messages(handle.name))
        _record(handle.tracking_uri, handle.name, handle.models, status="FAILED",
                last_error=reason)
        try:
            serve.delete(handle.name, _blocking=True)
        except Exception:
            pass
        if not _running:
            _shutdown()
        raise kernelflow.KernelflowError(
            f"Deployment {handle.name!r} failed to start: {reason}") from None


def _status_messages(name: str) -> str:
    """What Ray Serve says about an application's deployments (a failed replica's traceback)."""
    try:
        from ray import serve

        app = serve.status().applications.get(name)
        if app is None:
            return ""
        return "\n".join([app.message or ""] + [d.message or "" for d in app.deployments.values()])
    except Exception:
        return ""


def _failure_reason(exc: BaseException, details: str = "") -> str:
    """The line of Ray's report that says what went wrong (the replica's exception)."""
    import re

    for text in (details, str(exc)):
        marked = re.findall(r"kernelflow could not load [^\n]*", text)
        if marked:
            return marked[-1][:2000]
    for text in (details, str(exc)):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        found = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception)\b.*: ", ln)]
        if found:
            return found[-1][:2000]
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:2000]


def _record(tracking_uri: str, name: str, models: dict[str, Resolved], first: bool = False,
            **fields: Any) -> None:
    client = kernelflow.Client(tracking_uri)
    one = len(models) == 1
    for route, r in models.items():
        row = name if one else f"{name}/{route}"
        extra = {"model_name": r.name if r.version else None, "model_version": r.version,
                 "alias": r.alias} if first else {}
        try:
            client.record_deployment(row, r.uri if first else None, **extra, **fields)
        except kernelflow.KernelflowError:
            if first:
                raise


def running() -> dict[str, ServingHandle]:
    """The deployments this process started and has not stopped, by name."""
    return dict(_running)


def stop_all() -> None:
    """Stop every deployment this process started (runs at interpreter exit too)."""
    for handle in list(_running.values()):
        handle.stop()
    _shutdown()


def _shutdown() -> None:
    """Shut Serve and Ray down when this process started them and nothing of ours runs.

    On a Ray this process did not start (a cluster, or one a notebook or test started),
    Serve keeps running and keeps its port, which the next ``serve`` reuses.
    """
    if _running or not _state["owns_ray"]:
        return
    try:
        import ray
        from ray import serve

        if ray.is_initialized():
            serve.shutdown()
            ray.shutdown()
    except Exception:
        pass
    _state["http"] = None
    _state["owns_ray"] = False
