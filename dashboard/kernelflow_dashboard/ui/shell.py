"""The frame every page shares: left navigation, header, styles and URL arguments."""

from __future__ import annotations

import panel as pn

from .formatting import esc

NAV = (("experiments", "./", "Experiments"), ("runs", "runs", "Runs"),
       ("models", "models", "Models"), ("traces", "traces", "Traces"),
       ("evaluation", "evaluation", "Evaluation"),
       ("deployments", "deployments", "Deployments"), ("gateway", "gateway", "Gateway"))

CSS = """
:host { --kf-accent: #2272b4; --kf-border: #e3e6ea; --kf-muted: #5f6b7a; }
a { color: var(--kf-accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.kf-dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:7px;
  vertical-align:middle; }
.kf-status { font-size: 12px; white-space: nowrap; }
.kf-ok { color: #2e7d32; } .kf-running { color: #1565c0; } .kf-failed { color: #c62828; }
.kf-scheduled { color: #6d6d6d; }
.kf-muted { color: var(--kf-muted); font-size: 13px; }
.kf-error { background:#fdecea; color:#8a1c1c; border:1px solid #f5c2c0; border-radius:6px;
  padding:8px 12px; font-family: ui-monospace, Menlo, monospace; font-size:13px; white-space:pre-wrap; }
.kf-kv { border-collapse: collapse; width: 100%; font-size: 13px; }
.kf-kv td, .kf-kv th { border-bottom:1px solid var(--kf-border); padding:5px 8px; text-align:left;
  vertical-align: top; word-break: break-word; }
.kf-kv th { color: var(--kf-muted); font-weight: 600; }
.kf-scroll { max-height: 420px; overflow-y: auto; }
.kf-scroll .kf-kv th { position: sticky; top: 0; background: #fff; }
pre.kf-pre { background:#f6f8fa; border:1px solid var(--kf-border); border-radius:6px; padding:10px;
  font-size:12.5px; overflow:auto; max-height:600px; white-space:pre; margin:0; }
.kf-btn { display:inline-block; padding:5px 12px; border:1px solid var(--kf-accent); border-radius:4px;
  background: var(--kf-accent); color:#fff !important; font-size:13px; }
.kf-btn.kf-disabled { background:#c9d3dd; border-color:#c9d3dd; pointer-events:none; }
.kf-crumbs { font-size: 13px; color: var(--kf-muted); }
.kf-crumbs a { margin-right: 4px; }
h1.kf-title { font-size: 22px; margin: 2px 0 6px 0; font-weight: 600; word-break: break-word; }
.kf-chip { display:inline-block; background:#eef3f8; border:1px solid #d5e1ee; border-radius:10px;
  padding:1px 8px; margin:2px 4px 2px 0; font-size:12px; }
"""

TABLE_CSS = """
.tabulator { font-size: 13px; border: 1px solid var(--kf-border); border-radius: 6px; }
.tabulator .tabulator-header .tabulator-col { background: #f7f9fb; }
.tabulator-row .tabulator-cell { padding: 6px 8px; }
.tabulator-cell a { text-decoration: none; }
.tabulator .tabulator-col .tabulator-col-sorter { visibility: hidden; }
.tabulator .tabulator-col.tabulator-sortable:hover .tabulator-col-sorter { visibility: visible; }
.tabulator .tabulator-col.tabulator-sortable:hover { background: #edf2f7; }
"""

NAV_CSS = """
:host { height: 100%; }
.kf-nav { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; padding: 14px 8px; }
.kf-brand { font-size: 19px; font-weight: 700; color: #1b2a3a; padding: 0 10px 14px; }
.kf-brand span { color: #2272b4; }
.kf-nav a { display:block; padding:8px 12px; margin:2px 0; border-radius:6px; color:#1b2a3a;
  text-decoration:none; font-size:14px; }
.kf-nav a:hover { background:#e8eef5; }
.kf-nav a.kf-active { background:#dbe7f3; color:#0f4c81; font-weight:600; }
"""


def arg(name: str, default: str = "") -> str:
    """Return the URL query argument ``name`` of the current session (decoded)."""
    values = (pn.state.session_args or {}).get(name)
    if not values:
        return default
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def html(text: str, **kwargs) -> pn.pane.HTML:
    """An HTML pane with the shared styles; ``text`` must already be escaped."""
    kwargs.setdefault("sizing_mode", "stretch_width")
    return pn.pane.HTML(text, stylesheets=[CSS], **kwargs)


def error_box(message: str) -> pn.pane.HTML:
    """A red box showing a (user-facing) error message as text."""
    return html(f'<div class="kf-error" role="alert">{esc(message)}</div>')


def run_action(message: pn.pane.HTML, action, on_done) -> None:
    """Run a button's ``action``; show its KernelflowError, or its outcome and call ``on_done``."""
    from kernelflow.errors import KernelflowError

    try:
        done = action()
    except KernelflowError as exc:
        message.object = f'<div class="kf-error" role="alert">{esc(exc.message)}</div>'
        return
    message.object = f'<span class="kf-muted kf-done">{esc(done or "Done.")}</span>'
    on_done()


def navigation(active: str, experiment: str | None = None) -> pn.pane.HTML:
    """The left navigation; the Runs link keeps the current experiment."""
    links = []
    for key, href, label in NAV:
        if key == "runs" and experiment:
            href = f"runs?experiment={esc(_quote(experiment))}"
        cls = ' class="kf-active"' if key == active else ""
        links.append(f'<a href="{href}"{cls}>{label}</a>')
    body = '<div class="kf-brand">kernel<span>flow</span></div>' + "".join(links)
    return pn.pane.HTML(f'<nav class="kf-nav">{body}</nav>', stylesheets=[NAV_CSS], width=190,
                        styles={"background": "#f3f5f7", "height": "100vh", "position": "sticky",
                                "top": "0"}, margin=0)


# MLflow's UI routes live in the URL fragment (``/#/experiments/6/runs/<id>``), which the
# server never sees; MLflow's client prints such links. Each page sends them to ours.
HASH_ROUTES_JS = r"""
const hash = window.location.hash || "";
const part = (s) => encodeURIComponent(decodeURIComponent(s));
const routes = [
  [/^#\/experiments\/([^/?#]+)\/runs\/([^/?#]+)/, (m) => "run?id=" + part(m[2])],
  [/^#\/experiments\/([^/?#]+)/, (m) => "runs?experiment_id=" + part(m[1])],
  [/^#\/models\/([^/?#]+)\/versions\/([^/?#]+)/,
   (m) => "model?name=" + part(m[1]) + "&version=" + part(m[2])],
  [/^#\/models\/([^/?#]+)/, (m) => "model?name=" + part(m[1])],
  [/^#\/models\/?$/, (m) => "models"],
];
for (const [pattern, target] of routes) {
  const m = hash.match(pattern);
  if (m) {
    let url;
    try { url = target(m); } catch (e) { break; }  // a malformed %-escape: stay here
    window.location.replace(new URL(url, window.location.href).href);
    break;
  }
}
"""


def follow_mlflow_links() -> None:
    """Make the current page redirect MLflow-style hash routes (``#/experiments/1``)."""
    doc = pn.state.curdoc
    if doc is None or getattr(doc, "_kf_hash_routes", False):
        return
    from bokeh.models import CustomJS

    doc.js_on_event("document_ready", CustomJS(code=HASH_ROUTES_JS))
    doc._kf_hash_routes = True


def page(active: str, *content, experiment: str | None = None) -> pn.Row:
    """Lay out a page: navigation on the left, content on the right."""
    follow_mlflow_links()
    main = pn.Column(*content, sizing_mode="stretch_width", margin=(10, 24, 24, 24))
    return pn.Row(navigation(active, experiment), main, sizing_mode="stretch_width", margin=0,
                  styles={"font-family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                          # the navigation's grey runs down however long the page is
                          "background": "linear-gradient(90deg, #f3f5f7 190px, #fff 190px)",
                          "min-height": "100vh"})


def header(title: str, crumbs: list[tuple[str, str]] = (), extra: str = "") -> pn.pane.HTML:
    """Breadcrumbs, a title and an optional (escaped) line under it."""
    trail = " › ".join(f'<a href="{href}">{esc(label)}</a>' for href, label in crumbs)
    parts = [f'<div class="kf-crumbs">{trail}</div>' if crumbs else "",
             f'<h1 class="kf-title">{esc(title)}</h1>', extra]
    return html("".join(parts))


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def url(path: str, **query: str) -> str:
    """Build a relative page URL with quoted query arguments."""
    if not query:
        return path
    return path + "?" + "&".join(f"{k}={_quote(str(v))}" for k, v in query.items())


def client():
    """The dashboard's configured client (the server sets it up)."""
    try:
        from ..context import get_client
    except ImportError:  # pragma: no cover - context lands with the server
        import kernelflow

        return kernelflow.Client()
    return get_client()
