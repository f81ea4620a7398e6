"""A real JupyterLab for the notebook browser tests (``test_nb_lab_*.py``).

``lab_server(root)`` starts ``jupyter lab --allow-root`` on a free port with a token,
its own settings folder (no news fetching; theme switchable through the settings API)
and ``root`` as its folder; ``open_notebook`` opens a notebook there in Chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

# Text colours against their background, with alpha blended, as WCAG contrast ratios.
CONTRAST_JS = """(selector) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  return [...document.querySelectorAll(selector)].filter((el) => el.getClientRects().length)
    .slice(0, 60).map((el) => {
      const st = getComputedStyle(el);
      const isSvg = el instanceof SVGElement;
      let fg = parse(isSvg ? st.fill : st.color);
      const bg = background(el);
      if (!fg) return null;
      fg = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
      const a = lum(fg), b = lum(bg);
      return {text: (el.textContent || "").trim().slice(0, 30),
              ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
    }).filter(Boolean);
}"""


@dataclass
class Lab:
    """A running JupyterLab."""

    url: str
    token: str
    root: Path
    proc: subprocess.Popen

    def page_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={self.token}&reset"

    def set_theme(self, theme: str) -> None:
        """Choose the theme through Lab's settings API (takes effect on the next page load)."""
        body = json.dumps({"raw": json.dumps({"theme": theme})}).encode()
        req = urllib.request.Request(
            f"{self.url}/lab/api/settings/@jupyterlab/apputils-extension:themes?token={self.token}",
            data=body, method="PUT", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status in (200, 204)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(root: Path, env: dict | None = None, timeout: float = 90):
    """Run ``jupyter lab`` serving ``root``; yield a :class:`Lab`; stop it afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    settings = root / ".lab-settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(env or os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(root / ".lab-workspaces"))
    cmd = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabApp.collaborative=False",
           "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp runs commands
    log = open(root / "lab.log", "w+")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(root / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer: {(root / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield Lab(url, token, root, proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def without_kernel(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy that names no kernel, so Lab opens it without starting one."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    copy.metadata.pop("kernelspec", None)
    copy.metadata.pop("language_info", None)
    return copy


def open_notebook(page, lab: Lab, path: str, ready: str):
    """Open ``path`` in Lab, answer the kernel picker with 'No Kernel', wait for ``ready``."""
    page.goto(lab.page_url(path), wait_until="domcontentloaded")
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=60_000)
    no_kernel = page.locator(".jp-Dialog button", has_text="No Kernel")
    no_kernel.first.wait_for(state="visible", timeout=30_000)  # the notebook names no kernel
    no_kernel.first.click()
    page.locator(".jp-Dialog").first.wait_for(state="detached")
    page.locator(ready).first.wait_for(state="visible", timeout=30_000)
    return page


# The notebook's text as shown (hidden outputs left out) and as held in the page.
VISIBLE_TEXT = "() => document.querySelector('.jp-Notebook').innerText"
ALL_TEXT = "() => document.querySelector('.jp-Notebook').textContent"


def wait_idle(page) -> None:
    """Wait until the status bar says the notebook's kernel is idle."""
    page.wait_for_function("() => /\\| Idle/.test(document.querySelector('.jp-StatusBar-Widget')"
                           "?.textContent || '')", timeout=90_000)


def run_all(page, lab: Lab, path: str) -> None:
    """Open ``path``, wait until its kernel is idle, run every cell (without waiting)."""
    page.goto(lab.page_url(path), wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')",
                           timeout=60_000)
    wait_idle(page)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
