"""Helpers and fixtures for the browser tests: a headless Debian Chromium driven by Playwright.

``tests/conftest.py`` registers the ``browser`` (one per module) and ``page`` fixtures for
every test; modules import only the helpers (``open_page``, ``shot``, ``wait_until``...).
A missing ``/usr/bin/chromium`` fails the browser tests with what to install (the README's
test command installs it): a browser suite that silently skips tests nothing.
Screenshots go to ``test-artifacts/`` at the repository root (gitignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KERNELFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module", name="browser")
def browser_fixture():
    """A headless Chromium shared by one test module."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium, or "
                    "scripts/install.sh test), or point KERNELFLOW_CHROMIUM at one")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(name="page")
def page_fixture(browser):
    """A fresh page (1440x900) that records script errors and dialogs; fails on either."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.errors = []  # type: ignore[attr-defined]
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    errors, dialogs = list(pg.errors), list(pg.dialogs)
    context.close()
    assert not dialogs, f"the page opened dialogs (script ran?): {dialogs}"
    assert not errors, f"script errors on the page: {errors}"


def open_page(pg, url: str, ready: str):
    """Go to ``url`` and wait until ``ready`` (a CSS selector, piercing shadow DOM) is visible."""
    pg.goto(url, wait_until="commit")
    pg.locator(ready).first.wait_for(state="visible")
    return pg


def shot(pg, name: str) -> Path:
    """Save a screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def row_texts(pg, selector: str = ".kf-runs .tabulator-row") -> list[str]:
    """The visible text of each table row."""
    return pg.locator(selector).all_inner_texts()


def wait_until(pg, predicate, what: str, timeout_ms: int = TIMEOUT_MS) -> None:
    """Poll ``predicate()`` (a Python callable) until true, or fail saying ``what``."""
    step = 100
    for _ in range(timeout_ms // step):
        if predicate():
            return
        pg.wait_for_timeout(step)
    raise AssertionError(f"timed out waiting for {what}")


def run_names(pg) -> list[str]:
    """The run names shown in the runs table, top to bottom."""
    return [t.strip() for t in pg.locator(
        ".kf-runs .tabulator-row .tabulator-cell[tabulator-field='Run Name']").all_inner_texts()]


# The title, x tick labels and glyph point counts of every Bokeh plot on the page.
PLOTS_JS = """() => {
  const out = [];
  const walk = (v) => {
    const m = v.model;
    if (m && m.x_range && m.renderers) {  // a Plot (figure)
      const ax = (m.below || [])[0];
      const o = ax ? ax.major_label_overrides : null;
      const ticks = o ? (o instanceof Map ? [...o.values()] : Object.values(o)) : [];
      const sizes = m.renderers.filter(r => r.data_source)
        .map(r => Object.values(r.data_source.data)[0]?.length ?? 0);
      out.push({title: m.title ? m.title.text : '', ticks: ticks.map(String), sizes,
                xrange: [m.x_range.start, m.x_range.end]});
    }
    for (const c of (v.children ? v.children() : [])) walk(c);
  };
  for (const root of Object.values(window.Bokeh ? Bokeh.index : {})) walk(root);
  return out;
}"""


def bokeh_plots(pg) -> list[dict]:
    """Each drawn Bokeh plot's ``title``, x-axis ``ticks`` labels, glyph ``sizes`` and
    ``xrange`` (start, end)."""
    return pg.evaluate(PLOTS_JS)


def plot_titled(pg, title: str) -> dict | None:
    """The drawn Bokeh plot with this title, or None."""
    return next((p for p in bokeh_plots(pg) if p["title"] == title), None)
