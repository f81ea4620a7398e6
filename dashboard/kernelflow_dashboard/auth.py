"""Access control for the whole server: REST API, UI pages and their websocket.

Three checks, whatever address the server is bound to:

- **Host** (:class:`HostPolicy`): the ``Host`` header must name this machine — loopback,
  the machine's own names and addresses, private-network addresses (as MLflow's server
  does) — or be listed with ``--allowed-hosts``. This stops DNS rebinding.
- **Origin**: a browser write or websocket must come from this server's own origin or
  one listed with ``--cors-allowed-origins``.
- **Token** (:class:`TokenCheck`), when set, a request is let in when it carries any of:

  - ``Authorization: Bearer <token>`` (MLflow's client with ``MLFLOW_TRACKING_TOKEN``),
  - ``Authorization: Basic ...`` whose password is the token (``MLFLOW_TRACKING_USERNAME``
    and ``MLFLOW_TRACKING_PASSWORD``; the user name is ignored),
  - the session cookie set by ``/login`` or by opening any page with ``?token=<token>``.

The cookie holds an expiry time and an HMAC of it keyed by the token (never the token
itself): it stops working when it expires or when the server's token changes.
Credentials never reach the log (:class:`RedactCredentials`).
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import os
import re
import socket
import time
from urllib.parse import urlparse

import tornado.web
from tornado.httputil import HTTPServerRequest
from tornado.routing import Matcher, Rule

COOKIE = "kernelflow_session"
LOGIN_URL = "/login"
SESSION_SECONDS = int(os.environ.get("KERNELFLOW_SESSION_HOURS", "24")) * 3600


class TokenCheck:
    """Decides whether a request carries the server's token.

    Args:
        token: the shared secret; ``None`` or empty lets every request in.
        clock: seconds since the epoch (a seam for tests of the session's expiry).
    """

    def __init__(self, token: str | None, clock=time.time) -> None:
        self.token = token or None
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """Whether a token is required."""
        return self.token is not None

    def allows(self, handler: tornado.web.RequestHandler) -> bool:
        """Return True if the request may proceed (and set the cookie for ``?token=``)."""
        if not self.enabled:
            return True
        if self.allows_request(handler.request, query=False):
            return True
        if self._same(handler.get_query_argument("token", None), self.token):
            self.set_session(handler)
            return True
        return False

    def allows_request(self, request: HTTPServerRequest, query: bool = True) -> bool:
        """Whether a request carries the token (header, session cookie or ``?token=``)."""
        if not self.enabled:
            return True
        if self._header_ok(request.headers.get("Authorization", "")):
            return True
        cookie = request.cookies.get(COOKIE)
        if cookie is not None and self.session_ok(cookie.value):
            return True
        if query:
            values = request.query_arguments.get("token") or [b""]
            return self._same(values[-1].decode("utf-8", "replace"), self.token)
        return False

    def session_value(self, expires: int | None = None) -> str:
        """A session cookie value: ``<expiry>.<HMAC of the expiry keyed by the token>``."""
        expires = int(self.clock()) + SESSION_SECONDS if expires is None else expires
        return f"{expires}.{self._mac(expires)}"

    def session_ok(self, value: str | None) -> bool:
        """Whether a session cookie is this token's and has not expired."""
        if not self.enabled or not value:
            return False
        expires, _, mac = value.partition(".")
        if not expires.isdigit() or len(expires) > 12 or int(expires) < self.clock():
            return False
        return self._same(mac, self._mac(int(expires)))

    def set_session(self, handler: tornado.web.RequestHandler) -> None:
        """Give the browser a session cookie (HttpOnly, SameSite=Strict, expiring)."""
        handler.set_cookie(COOKIE, self.session_value(), httponly=True, samesite="Strict",
                           max_age=SESSION_SECONDS)

    def check_password(self, candidate: str | None) -> bool:
        """Compare a submitted token in constant time."""
        return self._same(candidate, self.token)

    def _mac(self, expires: int) -> str:
        msg = f"kernelflow-session:{expires}".encode()
        return hmac.new((self.token or "").encode(), msg, hashlib.sha256).hexdigest()

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
        return bool(a) and bool(b) and hmac.compare_digest(
            str(a).encode("utf-8", "replace"), str(b).encode("utf-8", "replace"))


def allowed_origins() -> set[str]:
    """Extra ``host[:port]`` names trusted as origins and hosts (``KERNELFLOW_ALLOWED_ORIGINS``).

    Set it when a proxy (JupyterLab's server proxy, a reverse proxy) puts the
    dashboard behind another address, e.g. ``KERNELFLOW_ALLOWED_ORIGINS=hub.example.org``.
    ``--allowed-hosts`` and ``--cors-allowed-origins`` say the same on the command line.
    """
    raw = os.environ.get("KERNELFLOW_ALLOWED_ORIGINS", "")
    return {o.strip().lower() for o in raw.split(",") if o.strip()}


_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
_WILDCARD_BINDS = {"", "0.0.0.0", "::"}


def _split_list(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return [i.strip().lower() for i in items if i.strip()]


def _bare(host: str) -> str:
    """``[::1]`` -> ``::1``; names lower-cased, without a trailing dot."""
    return host.strip().lower().strip("[]").rstrip(".")


@functools.lru_cache(maxsize=8)
def machine_names(bind_host: str = "") -> frozenset[str]:
    """This machine's own host names and addresses, plus the bind address (looked up once)."""
    names = set(_LOOPBACK_NAMES)
    if bind_host not in _WILDCARD_BINDS:
        names.add(_bare(bind_host))
    try:
        hostname = socket.gethostname()
        names |= {_bare(hostname), _bare(socket.getfqdn())}
        names |= {_bare(str(info[4][0])) for info in socket.getaddrinfo(hostname, None)}
    except OSError:
        pass
    return frozenset(n for n in names if n)


def _private_address(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


class HostPolicy:
    """Which ``Host`` headers and ``Origin`` headers this server answers.

    Args:
        bind_host: the address the server listens on (named in messages; trusted).
        allowed_hosts: host names or patterns (``*.example.org``, ``*`` for any) that replace
            the default list (loopback, this machine's names and addresses, private-network
            addresses); ``KERNELFLOW_ALLOWED_ORIGINS`` names are always added.
        cors_allowed_origins: origins (``https://hub.example.org``, patterns, ``*``) whose
            pages may write to this server and open the UI's websocket, besides its own.
    """

    def __init__(self, bind_host: str = "127.0.0.1", allowed_hosts: str | list[str] | None = None,
                 cors_allowed_origins: str | list[str] | None = None) -> None:
        self.bind_host = bind_host
        self.extra = allowed_origins()
        listed = _split_list(allowed_hosts)
        self.default_hosts = listed is None
        self.patterns = set(listed) if listed is not None else set(machine_names(bind_host))
        self.patterns |= self.extra
        self.origins = set(_split_list(cors_allowed_origins) or []) | self.extra

    def host_ok(self, request: HTTPServerRequest) -> bool:
        """Whether the request's ``Host`` header names this server."""
        full = request.host.lower()
        name = _bare(request.host_name)
        if "*" in self.patterns or name in self.patterns or full in self.patterns:
            return True
        if self.default_hosts and _private_address(name):
            return True
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(full, p)
                   for p in self.patterns if "*" in p)

    def origin_ok(self, request: HTTPServerRequest, safe_method: bool = False) -> bool:
        """Whether a browser ``Origin`` may act on this server (no header: not a browser)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        if origin == "null":
            return safe_method
        origin = origin.strip().lower()
        netloc = urlparse(origin).netloc
        if netloc and netloc == request.host.lower():
            return True  # same origin (the Host header itself is checked first)
        if "*" in self.origins or origin in self.origins or netloc in self.origins:
            return True
        return any(fnmatch.fnmatchcase(origin, p) for p in self.origins if "*" in p)

    def describe(self) -> str:
        """The hosts answered, for the start-up message."""
        if "*" in self.patterns:
            return "any Host name (--allowed-hosts '*')"
        shown = ", ".join(sorted(self.patterns))
        return shown + (", private-network addresses" if self.default_hosts else "")


def origin_allowed(handler: tornado.web.RequestHandler, policy: HostPolicy | None = None) -> bool:
    """Refuse cross-site browser writes: an ``Origin`` header must name this server.

    CORS is off, so a page on another site cannot read answers; this also stops it
    from *sending* writes (a form post or ``text/plain`` fetch needs no preflight).
    """
    policy = policy or HostPolicy()
    return policy.origin_ok(handler.request, handler.request.method in ("GET", "HEAD"))


def foreign_host_message(request: HTTPServerRequest) -> str:
    """Why a request with a foreign ``Host`` header is refused, and what to do."""
    return (f"Host {request.host!r} is not allowed; use this machine's name or address "
            "(behind a proxy, start the server with --allowed-hosts <its name>).")


class _Guard(Matcher):
    """Matches the requests to refuse before any route (Bokeh's included) sees them."""

    def __init__(self, policy: HostPolicy, check: TokenCheck) -> None:
        self.policy, self.check = policy, check

    def match(self, request: HTTPServerRequest) -> dict | None:
        if request.path == "/health":
            return None
        if not self.policy.host_ok(request):
            return _refusal(403, foreign_host_message(request))
        if (request.headers.get("Upgrade", "").lower() == "websocket"
                and not self.policy.origin_ok(request)):
            return _refusal(403, "Cross-origin websockets are refused; list the page's origin "
                            "with --cors-allowed-origins.")
        if request.path.endswith("/autoload.js") and not self.check.allows_request(request):
            return _refusal(401, "This server needs a token: sign in at /login.")
        return None


def _refusal(status: int, message: str) -> dict:
    return {"target_kwargs": {"status": status, "message": message}}


class _RefusalHandler(tornado.web.RequestHandler):
    """Answers a refused request in MLflow's error shape (one access-log line, no traceback)."""

    def initialize(self, status: int = 403, message: str = "") -> None:
        self.status, self.message = status, message

    def prepare(self) -> None:
        self.set_status(self.status)
        self.set_header("Content-Type", "application/json")
        code = "PERMISSION_DENIED" if self.status == 403 else "UNAUTHENTICATED"
        self.finish(json.dumps({"error_code": code, "message": self.message}))


def guard_hosts(app: tornado.web.Application, policy: HostPolicy,
                check: TokenCheck | None = None) -> None:
    """Refuse foreign ``Host`` headers, cross-origin websockets and unauthenticated
    ``autoload.js`` on every route of ``app`` (UI pages, their websocket, the API) before
    any handler runs; ``/health`` stays open.

    Args:
        app: the Tornado application (Bokeh's, for the Panel pages).
        policy: the hosts and origins answered.
        check: the token check (for the pages' ``autoload.js``, whose Panel handler fails
            with a traceback on a request that has no session).
    """
    router = app.default_router
    guard = Rule(_Guard(policy, check or TokenCheck(None)), _RefusalHandler)
    router.rules.insert(0, router.process_rule(guard))


def make_login_handler(check: TokenCheck,
                       policy: HostPolicy | None = None) -> type[tornado.web.RequestHandler]:
    """A ``/login`` page: a form for the token that sets the session cookie."""

    class LoginHandler(tornado.web.RequestHandler):
        def get(self) -> None:
            self._form("")

        def post(self) -> None:
            if not origin_allowed(self, policy):
                raise tornado.web.HTTPError(403)
            if check.check_password(self.get_body_argument("token", "")):
                check.set_session(self)
                self.redirect(local_next(self.get_query_argument("next", "/")))
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


_UNSAFE_IN_PATH = re.compile(r"[\\\x00-\x1f\x7f]")


def local_next(target: str) -> str:
    """Where to go after signing in: a path on this server, else ``/`` (no open redirect).

    Refuses any scheme or host, a leading ``//``, backslashes (browsers read ``/\\host``
    as ``//host``) and control characters.
    """
    if not target.startswith("/") or target.startswith("//") or _UNSAFE_IN_PATH.search(target):
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/"):
        return "/"
    return target


def make_auth_provider(check: TokenCheck, policy: HostPolicy | None = None):
    """A Bokeh ``AuthProvider`` that guards the Panel pages and their websocket."""
    from bokeh.server.auth_provider import AuthProvider

    login_handler = make_login_handler(check, policy)

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


# -- the log ---------------------------------------------------------------------------
_SECRETS = [
    (re.compile(r"([?&;]token=)[^&\s'\"#]*", re.I), r"\1[redacted]"),
    (re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)(?:(bearer|basic|token)\s+)?[^\s'\",}]+",
                re.I), r"\1\2 [redacted]"),
    (re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1 [redacted]"),
    (re.compile(r"((?:set-)?cookie['\"]?\s*[:=]\s*['\"]?)[^'\"\n]+", re.I), r"\1[redacted]"),
    (re.compile(rf"({COOKIE}=)[^;\s'\"]+"), r"\1[redacted]"),
]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with tokens, ``Authorization`` values and cookies replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


class RedactCredentials(logging.Filter):
    """A logging filter that removes credentials from every record it sees.

    Args:
        secrets: literal values to hide wherever they appear (the server's token).
    """

    def __init__(self, *secrets: str | None) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logged as it is
            return True
        clean = redact(message, self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


_LOGGERS = ("tornado.access", "tornado.application", "tornado.general", "bokeh", "panel",
            "kernelflow_dashboard", "kernelflow_dashboard.api")


def install_log_redaction(token: str | None) -> RedactCredentials:
    """Keep credentials out of the server's log: filter tornado's, Bokeh's and our loggers
    and every handler on the root logger (``python -m`` and ``kernelflow ui`` alike)."""
    redactor = RedactCredentials(token)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(redactor)
        for handler in logger.handlers:
            handler.addFilter(redactor)
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None:
            handler.addFilter(redactor)
    return redactor
