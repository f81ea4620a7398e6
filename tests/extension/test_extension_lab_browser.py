"""End to end: a real ``jupyter lab`` with the extension, driven by Debian's Chromium.

One Lab server (non-root base URL, a token, a free port) and one browser serve the module.
Screenshots go to test-artifacts/extension-*.png.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests
from lab_helpers import BASE_URL, start_lab, stop_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("KERNELFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 30_000
#: the panel polls every 2 s while something changes or runs, backing off to 10 s when idle
ONE_POLL_S = 10 + 3
FRAME = ".kf-lab-dashboard iframe"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with two finished runs in 'digits' (the current experiment) and one elsewhere."""
    import kernelflow

    folder = tmp_path_factory.mktemp("lab-store")
    client = kernelflow.Client(f"sqlite:///{folder / 'kernelflow.db'}")
    start = int(time.time() * 1000) - 60_000
    older = client.create_experiment("older")
    client.set_terminated(client.create_run(older, run_name="old-run",
                                            start_time=start - 60_000).info.run_id)
    digits = client.create_experiment("digits")
    runs = {}
    for i, name in enumerate(["seed-alpha", "seed-beta"]):
        # distinct start times: "newest first" must not depend on two runs' milliseconds
        run = client.create_run(digits, run_name=name, start_time=start + i * 1000)
        for step in range(5):
            client.log_metric(run.info.run_id, "loss", 1 / (step + 1 + i), step=step)
        client.log_metric(run.info.run_id, "acc", 0.8 + i / 10)
        client.set_terminated(run.info.run_id)
        runs[name] = run.info.run_id
    client.flush()
    return {"client": client, "uri": client.tracking_uri, "digits": digits, "runs": runs}


@pytest.fixture(scope="module")
def lab(store, tmp_path_factory):
    server = start_lab(tmp_path_factory.mktemp("lab"), store["uri"])
    yield server
    stop_lab(server)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, lab):
    """Lab, loaded once for the module in a fresh workspace; fails on uncaught errors from the
    extension. The tests run in order on it (loading Lab takes a while on a busy machine)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{lab.url}lab/workspaces/e2e?reset&token={lab.token}", wait_until="domcontentloaded")
    pg.locator(".jp-LauncherCard").first.wait_for(state="visible", timeout=120_000)
    yield pg
    context.close()
    ours = [e for e in errors if "kernelflow" in e.lower()]
    assert ours == [], f"the extension raised in the page: {ours}"


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"extension-{name}.png"))


def launcher_tile(pg):
    return pg.locator(".jp-LauncherCard", has=pg.locator(".jp-LauncherCard-label",
                                                           has_text="kernelflow"))


def side_panel_tab(pg):
    return pg.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="kernelflow-runs"]')


def open_side_panel(pg):
    panel = pg.locator("#kernelflow-runs")
    if not panel.is_visible():  # the tab toggles the panel
        side_panel_tab(pg).click()
    panel.wait_for(state="visible")
    return panel


def frame_src(pg, index: int = -1) -> str:
    """The iframe's ``src``, checked to be on Lab's own origin; returned as a path."""
    src = pg.locator(FRAME).nth(index).get_attribute("src")
    origin = pg.evaluate("() => window.location.origin")
    assert src.startswith(origin + "/"), (src, origin)
    return src[len(origin):]


def frame_path(pg, index: int = -1) -> str:
    """The path the dashboard iframe shows, read from its window: throws if not same origin."""
    return pg.evaluate(
        "([sel, i]) => { const all = document.querySelectorAll(sel);"
        " const f = all[i < 0 ? all.length + i : i];"
        " return f.contentWindow.location.pathname + f.contentWindow.location.search; }",
        [FRAME, index])


def wait_for(predicate, what: str, timeout_s: float, pg=None) -> float:
    """Poll ``predicate`` until true; return the seconds it took, or fail saying ``what``.

    Give the page when ``predicate`` reads what a Playwright event handler collects: waiting
    through the page lets Playwright deliver its events (``time.sleep`` would hold them back).
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        if pg is not None:
            pg.wait_for_timeout(200)
        else:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s")


def test_launcher_tile_and_palette_entries(page):
    tile = launcher_tile(page)
    tile.wait_for(state="visible")
    assert tile.locator("svg").count() >= 1  # the kernelflow icon
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("kernelflow")
    items = page.locator(".lm-CommandPalette-item:visible .lm-CommandPalette-itemLabel")
    items.first.wait_for(state="visible")
    labels = set(items.all_inner_texts())
    assert {"kernelflow: Open the Dashboard", "kernelflow: Open the Runs of an Experiment",
            "kernelflow: Open the Models"} <= labels, labels
    shot(page, "launcher-palette")
    page.keyboard.press("Escape")


def test_dashboard_tab_is_same_origin_under_kernelflow_and_renders_runs(page, lab, store):
    launcher_tile(page).click()
    frame_el = page.locator(FRAME)
    frame_el.wait_for(state="attached")
    assert frame_src(page) == f"{BASE_URL}kernelflow/"
    assert "allow-same-origin" in frame_el.get_attribute("sandbox")
    frame = page.frame_locator(FRAME)
    # the experiments page is drawn by Panel over its websocket, through Jupyter's proxy
    frame.locator("a", has_text="digits").first.wait_for(state="visible", timeout=90_000)
    assert frame_path(page) == f"{BASE_URL}kernelflow/"
    frame.locator("a", has_text="digits").first.click()
    rows = frame.locator(".tabulator-row")
    rows.filter(has_text="seed-alpha").first.wait_for(state="visible")
    assert rows.filter(has_text="seed-beta").count() == 1
    assert frame_path(page).startswith(f"{BASE_URL}kernelflow/runs?")
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    assert tab.inner_text().strip() == "kernelflow: runs"  # follows navigation in the frame
    shot(page, "dashboard-tab")


def test_side_panel_lists_seeded_runs_and_follows_a_new_one(page, store):
    warm: list[str] = []
    page.on("request", lambda r: warm.append(r.url) if "/kernelflow/health" in r.url
            else None)
    panel = open_side_panel(page)
    names = panel.locator(".kf-lab-run-name")
    names.first.wait_for(state="visible")
    assert names.all_inner_texts() == ["seed-beta", "seed-alpha"]  # newest first
    assert panel.locator("select").evaluate("s => s.selectedOptions[0].textContent") == \
        "digits (2)"
    alpha = panel.locator(f'.kf-lab-run[data-run-id="{store["runs"]["seed-alpha"]}"]')
    assert "loss 0.2" in alpha.inner_text() and "acc 0.8" in alpha.inner_text()
    shot(page, "side-panel")
    assert warm, "showing the panel starts the dashboard for the run pages it opens"

    client = store["client"]
    run = client.create_run(store["digits"], run_name="fresh-run")
    client.log_metric(run.info.run_id, "loss", 0.5)
    client.flush()
    row = panel.locator(f'.kf-lab-run[data-run-id="{run.info.run_id}"]')
    took = wait_for(lambda: row.count() == 1, "the new run showing in the panel", ONE_POLL_S)
    assert row.get_attribute("data-status") == "RUNNING"
    assert row.locator(".kf-lab-dot.kf-lab-running").count() == 1
    # while it runs the panel polls fast: a value it logs shows within a couple of seconds
    client.log_metric(run.info.run_id, "loss", 0.125)
    client.flush()
    # (a few fast polls' worth: a loaded machine can delay Lab's server and the browser)
    wait_for(lambda: "loss 0.125" in row.inner_text(), "the running run's new loss", 15)
    client.set_terminated(run.info.run_id)
    wait_for(lambda: row.get_attribute("data-status") == "FINISHED", "the run's end", 15)
    shot(page, "side-panel-live")
    print(f"new run shown after {took:.1f} s")


def test_the_side_panel_does_not_poll_while_hidden(page):
    open_side_panel(page)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "kernelflow-lab/runs" in r.url else None)
    side_panel_tab(page).click()  # hide it
    page.locator("#kernelflow-runs").wait_for(state="hidden")
    page.wait_for_timeout(1_500)  # a poll already under way may still finish
    polls.clear()
    page.wait_for_timeout(5_000)  # more than two fast polls
    assert polls == []
    open_side_panel(page)
    wait_for(lambda: len(polls) > 0, "polling again once shown", 5, page)


def test_clicking_a_run_opens_its_page(page, store):
    panel = open_side_panel(page)
    run_id = store["runs"]["seed-beta"]
    panel.locator(f'.kf-lab-run[data-run-id="{run_id}"]').click()
    wait_for(lambda: "run?id=" in frame_src(page), "the run's tab", 20)
    assert frame_src(page) == f"{BASE_URL}kernelflow/run?id={run_id}"
    title = page.frame_locator(FRAME).last.locator("h1.kf-title")
    title.wait_for(state="visible", timeout=60_000)
    assert "seed-beta" in title.inner_text()
    shot(page, "run-page")


def test_the_runs_palette_entry_asks_which_experiment(page):
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Open the Runs")
    page.locator(".lm-CommandPalette-item",
                 has_text="kernelflow: Open the Runs of an Experiment").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("select").wait_for(state="visible")
    assert dialog.locator("select").input_value() == "digits"  # the current one first
    dialog.locator("select").select_option("older")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    wait_for(lambda: frame_src(page).endswith("runs?experiment=older"), "the runs tab", 20)
    page.frame_locator(FRAME).last.locator(".tabulator-row", has_text="old-run").first.wait_for(
        state="visible", timeout=60_000)


def test_kf_dashboard_in_a_lab_notebook_links_to_the_lab_tab(page):
    """A kernel Lab starts knows the same-origin dashboard: no server on another port."""
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-addButton").first.click()  # a launcher
    page.locator(".jp-LauncherCard[data-category='Notebook']").first.click()
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    cell.wait_for(state="visible", timeout=60_000)
    # the kernel must be connected and idle, or Lab may drop the execution request
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=90_000)
    cell.click()
    page.keyboard.type("%load_ext kernelflow\n%kf dashboard --no-iframe")
    page.keyboard.press("Control+Enter")
    link = page.locator(".jp-OutputArea-output a[data-kernelflow-lab]")
    try:
        try:
            link.wait_for(state="visible", timeout=20_000)
        except Exception:  # a request sent while the kernel was still connecting: run again
            cell.click()
            page.keyboard.press("Control+Enter")
            link.wait_for(state="visible", timeout=40_000)
    except Exception:
        shot(page, "kf-dashboard-magic-failed")
        raise AssertionError("no link; the notebook shows: "
                             + page.locator(".jp-Notebook").inner_text()) from None
    assert link.get_attribute("href") == f"{BASE_URL}kernelflow/"
    shot(page, "kf-dashboard-magic")
    count = page.locator(FRAME).count()
    link.click()
    wait_for(lambda: page.locator(FRAME).count() == count + 1, "a new dashboard tab", 20)
    assert frame_src(page) == f"{BASE_URL}kernelflow/"


def test_dashboard_tabs_are_restored_on_reload(page, lab):
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Open the Models")
    page.locator(".lm-CommandPalette-item", has_text="kernelflow: Open the Models").click()
    wait_for(lambda: frame_src(page).endswith("/models"), "the models tab", 20)
    assert frame_src(page) == f"{BASE_URL}kernelflow/models"

    def saved() -> bool:  # Lab saves the layout to its workspace a moment after a change
        body = lab.get("lab/api/workspaces/e2e").json()
        return "kernelflow:models" in body.get("data", {})

    wait_for(saved, "the workspace saving the dashboard tab", 15)
    page.goto(f"{lab.url}lab/workspaces/e2e", wait_until="domcontentloaded")
    frames = page.locator(FRAME)
    frames.first.wait_for(state="attached", timeout=120_000)
    srcs = [frame_src(page, i) for i in range(frames.count())]
    assert f"{BASE_URL}kernelflow/models" in srcs, srcs  # and the earlier tabs, as they were
    assert any(s.startswith(f"{BASE_URL}kernelflow/run?id=") for s in srcs), srcs


def test_the_dashboard_behind_jupyter_can_be_framed_and_needs_jupyters_login(lab):
    answer = lab.get("kernelflow/")
    assert answer.status_code == 200 and "<title>kernelflow</title>" in answer.text
    assert answer.headers.get("X-Frame-Options", "SAMEORIGIN").upper() == "SAMEORIGIN"
    assert "frame-ancestors 'none'" not in answer.headers.get("Content-Security-Policy", "")
    anonymous = requests.get(lab.url + "kernelflow/", allow_redirects=False, timeout=30)
    assert anonymous.status_code in (302, 403)  # to Jupyter's login, never the dashboard
    assert "<title>kernelflow</title>" not in anonymous.text


def test_the_proxy_restarts_a_dashboard_that_died(lab):
    assert lab.get("kernelflow/").status_code == 200
    (pid,) = dashboard_pids(lab)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid not in dashboard_pids(lab), "the dashboard process to die", 10)
    api = "kernelflow/api/2.0/mlflow/experiments/search?max_results=10"
    # jupyter-server-proxy's supervisor starts it again at once; it answers once it is up
    wait_for(lambda: lab.get(api).status_code == 200, "the restarted dashboard answering", 90)
    assert "digits" in {e["name"] for e in lab.get(api).json()["experiments"]}
    (new_pid,) = dashboard_pids(lab)
    assert new_pid != pid


def dashboard_pids(lab) -> list[int]:
    """The `kernelflow ui` processes in the Lab's process group (started by the proxy)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if os.getpgid(int(entry.name)) != lab.process.pid:
                continue
        except (OSError, ProcessLookupError):
            continue
        if b"ui" in cmdline and b"--prefix" in cmdline and b"kernelflow" in cmdline:
            state = (entry / "stat").read_text().split()[2]
            if state != "Z":
                pids.append(int(entry.name))
    return pids
