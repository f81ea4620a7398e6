"""One process, one port: the Panel UI pages and the MLflow-compatible REST API.

``serve()`` is what ``kernelflow ui`` runs. The REST API is a set of Tornado
handlers mounted beside the Panel pages (``extra_patterns``); ``GET /health``
answers ``OK`` once the server accepts requests. ``python -m
kernelflow_dashboard.server --store ... --port ...`` runs the same thing.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any

import tornado.web

from kernelflow.errors import InvalidParameterError, KernelflowError

from . import context
from .api import Api, Security, routes
from .api.base import BaseHandler
from .api.version import VersionHandler
from .auth import (
    HostPolicy,
    TokenCheck,
    guard_hosts,
    install_log_redaction,
    make_auth_provider,
    make_login_handler,
)

log = logging.getLogger("kernelflow_dashboard")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BODY_BYTES = 64 * 1024 * 1024  # JSON calls; artifact uploads raise their own limit
# Room for long query strings, so that the handlers answer a too-long one with MLflow's JSON
# error (MAX_URI_BYTES) instead of Tornado's bare 400 for request lines over its 64 KiB.
MAX_HEADER_BYTES = 2 * 1024 * 1024


class HealthHandler(tornado.web.RequestHandler):
    """GET /health: ``OK`` (open without a token, like MLflow's)."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.finish("OK")


class ServerInfoHandler(BaseHandler):
    """GET /api/3.0/mlflow/server-info: what MLflow's client asks before artifact uploads."""

    def get(self) -> None:
        self.write_json({
            "store_type": "SqlStore",
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        })


def build_patterns(api: Api, security: Security) -> list[tuple[str, type, dict[str, Any]]]:
    """Every non-Panel route: health, version, server info and the REST API."""
    info_kw = {"security": security}
    patterns: list[tuple[str, type, dict[str, Any]]] = [
        (r"/health", HealthHandler, {}),
        (r"/version", VersionHandler, {}),
        (r"/(?:ajax-)?api/3\.0/mlflow/server-info", ServerInfoHandler, info_kw),
    ]
    return patterns + routes(api, security)


def load_pages() -> dict[str, Any] | None:
    """The UI's page factories; None only when ``KERNELFLOW_DASHBOARD_API_ONLY=1`` asks for
    the REST API alone (a lighter server for API work).

    Raises:
        KernelflowError: the UI failed to import (a broken install or a bug): the server
            refuses to start rather than quietly serving the API alone.
    """
    if os.environ.get("KERNELFLOW_DASHBOARD_API_ONLY") == "1":
        return None
    try:
        from .ui import PAGES
    except ImportError as exc:
        raise KernelflowError(
            f"The dashboard's pages failed to import ({type(exc).__name__}: {exc}). Reinstall "
            "with pip install 'kernelflow[dashboard]', or set KERNELFLOW_DASHBOARD_API_ONLY=1 "
            "to serve the REST API alone.") from exc
    return {("/" if k in ("", "/") else "/" + k.strip("/")): v for k, v in PAGES.items()}


def _websocket_origins(host: str, port: int) -> list[str]:
    """Bokeh's own websocket origin list: any, because ``guard_hosts`` already refuses a
    websocket whose ``Origin`` is not this server or one of ``--cors-allowed-origins``."""
    # Bokeh warns that '*' lets any origin in; here it does not, so drop that warning.
    logging.getLogger("bokeh.server.util").addFilter(
        lambda record: "Host wildcard" not in record.getMessage())
    return ["*"]


def serve(
    tracking_uri: str | None = None,
    artifact_root: str | None = None,
    host: str = "127.0.0.1",
    port: int = 5000,
    token: str | None = None,
    serve_artifacts: bool = True,
    allowed_hosts: str | list[str] | None = None,
    cors_allowed_origins: str | list[str] | None = None,
    prefix: str = "",
) -> None:
    """Serve the dashboard and the REST API on ``host:port`` until interrupted (blocking).

    Args:
        tracking_uri: the SQLite store to serve (``sqlite:///file.db`` or a ``.db`` path);
            defaults to kernelflow's current tracking URI.
        artifact_root: folder holding run artifacts; defaults to the store's own.
        host: address to bind; keep 127.0.0.1 unless others must reach the server.
        port: TCP port (0 picks a free one).
        token: shared secret every request must carry (also read from ``KERNELFLOW_TOKEN``).
        serve_artifacts: as MLflow's ``--serve-artifacts`` (the default): artifact URIs under
            the root are ``mlflow-artifacts:/`` and go through this server; when false they
            are the real paths, which clients read and write themselves.
        allowed_hosts: ``Host`` names answered, replacing the default (loopback, this
            machine's names and addresses, private-network addresses); ``"*"`` for any.
        cors_allowed_origins: other origins whose pages may write here and open the UI.
        prefix: serve every page, link, redirect, REST route and the websocket under this
            path (``/user/ann/kernelflow``), for a proxy that forwards the full path
            (JupyterLab's, through jupyter-server-proxy).

    Raises:
        KernelflowError: for a port out of range or one that cannot be bound (in use).
    """
    _check_port(port)
    token = token or os.environ.get("KERNELFLOW_TOKEN") or None
    install_log_redaction(token)
    hosts = HostPolicy(host, allowed_hosts, cors_allowed_origins)
    if host not in LOOPBACK and not token:
        log.warning("Serving on %s without a token: anyone who can reach this port can read "
                    "and write your runs and artifacts (requests must name one of: %s). Set "
                    "KERNELFLOW_TOKEN.", host, hosts.describe())
    client = context.configure(tracking_uri, artifact_root)
    api = Api.for_client(client, serve_artifacts)
    allow_long_queries()
    security = Security(TokenCheck(token), hosts)
    patterns = build_patterns(api, security)
    pages = load_pages()
    prefix = url_prefix(prefix)
    if pages is None:
        _serve_api_only(patterns, security, host, port, prefix)
    else:
        _serve_with_panel(pages, patterns, security, host, port, prefix)


def url_prefix(prefix: str | None) -> str:
    """``/a/b`` for ``a/b/``, ``/a/b`` or ``/a/b/``; ``""`` for none."""
    parts = [p for p in (prefix or "").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidParameterError(f"Invalid --prefix {prefix!r}: use a plain path like /kernelflow.")
    return "/" + "/".join(parts) if parts else ""


def allow_long_queries() -> None:
    """Let query strings of any length that fits the headers reach the handlers.

    Tornado answers more than 1,000 query fields (``?run_id=..&run_id=..``) with an empty
    400 before any handler runs; the handlers check their own limits and answer in JSON.
    """
    from tornado import httputil

    config = getattr(httputil, "ParseUrlEncodedConfig", None)
    if config is not None:
        httputil.set_parse_body_config(httputil.ParseBodyConfig(
            urlencoded=config(max_arguments=MAX_HEADER_BYTES // 2)))


def _check_port(port: int) -> None:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise InvalidParameterError(
            f"Invalid port {port!r}: use a number from 1 to 65535 (0 picks a free one).")


@contextmanager
def _binding(host: str, port: int):
    """Turn a failure to listen on ``host:port`` into a KernelflowError that says what to do."""
    try:
        yield
    except OSError as exc:
        hint = ("another process (a running `kernelflow ui`?) is using it; stop it or pick "
                "another --port (0 picks a free one)" if exc.errno == errno.EADDRINUSE
                else "check --host and --port")
        raise KernelflowError(
            f"Cannot serve on {host}:{port}: {exc.strerror or exc}; {hint}.") from None


def _serve_api_only(patterns: list, security: Security, host: str, port: int,
                    prefix: str = "") -> None:
    from tornado.ioloop import IOLoop

    if security.check.enabled:
        patterns = [(r"/login", make_login_handler(security.check, security.hosts), {}),
                    *patterns]
    app = tornado.web.Application([(prefix + p[0], *p[1:]) for p in patterns])
    guard_hosts(app, security.hosts, security.check)
    with _binding(host, port):
        server = app.listen(port, address=host, max_body_size=MAX_BODY_BYTES,
                            max_header_size=MAX_HEADER_BYTES)
    _announce(host, _bound_port(server, port), prefix)
    IOLoop.current().start()


def _serve_with_panel(pages: dict, patterns: list, security: Security, host: str,
                      port: int, prefix: str = "") -> None:
    import panel as pn

    opts: dict[str, Any] = {}
    if security.check.enabled:
        opts["auth_provider"] = make_auth_provider(security.check, security.hosts)
    with _binding(host, port):
        server = pn.serve(
            pages, port=port, address=host, show=False, start=False, title="kernelflow",
            websocket_origin=_websocket_origins(host, port), extra_patterns=patterns,
            http_server_kwargs={"max_body_size": MAX_BODY_BYTES,
                                "max_header_size": MAX_HEADER_BYTES}, prefix=prefix,
            use_xheaders=bool(prefix), **opts,  # behind a proxy: its X-Forwarded-Proto (wss)
        )
    guard_hosts(server._tornado, security.hosts, security.check)  # Bokeh's Tornado app
    _announce(host, server.port, prefix)
    _warm_pages()
    server.start()
    server.io_loop.start()


def _warm_pages() -> None:
    """Import the UI's heavy libraries in the background so the first page opens fast."""
    from .ui import warm

    threading.Thread(target=warm, name="kernelflow-warm-ui", daemon=True).start()


def _bound_port(server, port: int) -> int:
    if port:
        return port
    return next(iter(server._sockets.values())).getsockname()[1]


def _announce(host: str, port: int, prefix: str = "") -> None:
    shown = f"[{host}]" if ":" in host else host
    print(f"kernelflow dashboard and REST API at http://{shown}:{port}{prefix}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m kernelflow_dashboard.server``: the same options as ``kernelflow ui``."""
    parser = argparse.ArgumentParser(prog="python -m kernelflow_dashboard.server",
                                     description=serve.__doc__.splitlines()[0])
    parser.add_argument("--store", help="tracking URI of the SQLite store")
    parser.add_argument("--artifacts", metavar="DIR", help="artifact root")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--token", help="require this token (default: $KERNELFLOW_TOKEN; "
                        "prefer the variable: other users can read a command line with ps)")
    parser.add_argument("--allowed-hosts", metavar="HOSTS",
                        help="comma-separated Host names answered (default: this machine)")
    parser.add_argument("--cors-allowed-origins", metavar="ORIGINS",
                        help="comma-separated origins whose pages may write here")
    parser.add_argument("--serve-artifacts", action=argparse.BooleanOptionalAction, default=True,
                        help="proxy artifacts as mlflow-artifacts:/ URIs (default), or not")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        serve(args.store, args.artifacts, args.host, args.port, args.token, args.serve_artifacts,
              args.allowed_hosts, args.cors_allowed_origins)
    except KernelflowError as exc:
        print(f"kernelflow: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
