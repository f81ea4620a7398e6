"""Token access control for the whole server: REST API, UI pages and their websocket.

With a token set, a request is let in when it carries any of:

- ``Authorization: Bearer <token>`` (MLflow's client with ``MLFLOW_TRACKING_TOKEN``),
- ``Authorization: Basic ...`` whose password is the token (``MLFLOW_TRACKING_USERNAME``
  and ``MLFLOW_TRACKING_PASSWORD``; the user name is ignored),
- the session cookie set by ``/login`` or by opening any page with ``?token=<token>``.

The cookie holds an HMAC of the token, never the token itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
from urllib.parse import urlparse

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher, Rule

COOKIE = "kernelflow_session"
LOGIN_URL = "/login"


class TokenCheck:
    """Decides whether a request carries the server's token.

    Args:
        token: the shared secret; ``None`` or empty lets every request in.
    """

    def __init__(self, token: str | None) -> None:
        self.token = token or None
        self._session = (
            hmac.new(self.token.encode(), b"kernelflow-session", hashlib.sha256).hexdigest()
            if self.token else None
        )

    @property
    def enabled(self) -> bool:
        """Whether a token is required."""
        return self.token is not None

    def allows(self, handler: tornado.web.RequestHandler) -> bool:
        """Return True if the request may proceed (and refresh the cookie for ``?token=``)."""
        if not self.enabled:
            return True
        if self._header_ok(handler.request.headers.get("Authorization", "")):
            return True
        if self._same(handler.get_cookie(COOKIE), self._session):
            return True
        query_token = handler.get_query_argument("token", None)
        if self._same(query_token, self.token):
            self.set_session(handler)
            return True
        return False

    def set_session(self, handler: tornado.web.RequestHandler) -> None:
        """Give the browser the session cookie (HttpOnly, SameSite=Strict)."""
        handler.set_cookie(COOKIE, self._session or "", httponly=True, samesite="Strict")

    def check_password(self, candidate: str | None) -> bool:
        """Compare a submitted token in constant time."""
        return self._same(candidate, self.token)

    def _header_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            return self._same(value.strip(), self.token)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value.strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return False
            return self._same(decoded.partition(":")[2], self.token)
        return False

    @staticmethod
    def _same(a: str | None, b: str | None) -> bool:
        return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def allowed_origins() -> set[str]:
    """Extra ``host[:port]`` names trusted as origins and hosts (``KERNELFLOW_ALLOWED_ORIGINS``).

    Set it when a proxy (JupyterLab's server proxy, a reverse proxy) puts the
    dashboard behind another address, e.g. ``KERNELFLOW_ALLOWED_ORIGINS=hub.example.org``.
    """
    raw = os.environ.get("KERNELFLOW_ALLOWED_ORIGINS", "")
    return {o.strip().lower() for o in raw.split(",") if o.strip()}


def origin_allowed(handler: tornado.web.RequestHandler) -> bool:
    """Refuse cross-site browser writes: an ``Origin`` header must name this server.

    CORS is off, so a page on another site cannot read answers; this also stops it
    from *sending* writes (a form post or ``text/plain`` fetch needs no preflight).
    """
    origin = handler.request.headers.get("Origin")
    if not origin:
        return True
    if origin == "null":
        return handler.request.method in ("GET", "HEAD")
    netloc = urlparse(origin).netloc.lower()
    extra = allowed_origins()
    return netloc == handler.request.host.lower() or netloc in extra or "*" in extra


_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]", "::1"}


def host_allowed(request: HTTPServerRequest, loopback_only: bool) -> bool:
    """When bound to 127.0.0.1, accept only loopback ``Host`` names (stops DNS rebinding)."""
    if not loopback_only:
        return True
    host = request.host_name.lower()
    extra = allowed_origins()
    return host in _LOOPBACK_NAMES or host in extra or request.host.lower() in extra or "*" in extra


def foreign_host_message(request: HTTPServerRequest) -> str:
    """Why a request with a foreign ``Host`` header is refused, and what to do."""
    return (f"Host {request.host!r} is not allowed; use 127.0.0.1 or localhost (behind a "
            "proxy, list its name in KERNELFLOW_ALLOWED_ORIGINS).")


class _ForeignHost(Matcher):
    def __init__(self, loopback_only: bool) -> None:
        self.loopback_only = loopback_only

    def match(self, request: HTTPServerRequest) -> dict | None:
        if request.path == "/health" or host_allowed(request, self.loopback_only):
            return None
        return {}


class _ForeignHostHandler(tornado.web.RequestHandler):
    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error_code": "PERMISSION_DENIED",
                                "message": foreign_host_message(self.request)}))


def guard_hosts(app: tornado.web.Application, loopback_only: bool) -> None:
    """Refuse foreign ``Host`` headers on every route of ``app`` (UI pages, their
    websocket, the API) before any handler runs; ``/health`` stays open.

    Args:
        app: the Tornado application (Bokeh's, for the Panel pages).
        loopback_only: the server is bound to a loopback address.
    """
    router = app.default_router
    router.rules.insert(0, router.process_rule(Rule(_ForeignHost(loopback_only),
                                                    _ForeignHostHandler)))


def make_login_handler(check: TokenCheck) -> type[tornado.web.RequestHandler]:
    """A ``/login`` page: a form for the token that sets the session cookie."""

    class LoginHandler(tornado.web.RequestHandler):
        def get(self) -> None:
            self._form("")

        def post(self) -> None:
            if not origin_allowed(self):
                raise tornado.web.HTTPError(403)
            if check.check_password(self.get_body_argument("token", "")):
                check.set_session(self)
                self.redirect(_local_next(self.get_query_argument("next", "/")))
                return
            self.set_status(401)
            self._form("That token is not right; use the one given to `kernelflow ui --token`.")

        def _form(self, error: str) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.write(
                "<!doctype html><title>kernelflow: sign in</title>"
                "<form method='post' style='font-family:sans-serif;margin:4em auto;width:22em'>"
                "<h2>kernelflow</h2><p>This dashboard needs its access token.</p>"
                f"<p style='color:#b00'>{html.escape(error)}</p>"
                "<input type='password' name='token' autofocus style='width:100%'>"
                "<button type='submit'>Sign in</button></form>"
            )

    return LoginHandler


def _local_next(target: str) -> str:
    """Only redirect to paths on this server (no open redirect)."""
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def make_auth_provider(check: TokenCheck):
    """A Bokeh ``AuthProvider`` that guards the Panel pages and their websocket."""
    from bokeh.server.auth_provider import AuthProvider

    login_handler = make_login_handler(check)

    class TokenAuthProvider(AuthProvider):
        @property
        def get_user(self):
            return lambda handler: "kernelflow" if check.allows(handler) else None

        @property
        def login_url(self):
            return LOGIN_URL

        @property
        def login_handler(self):
            return login_handler

    return TokenAuthProvider()
