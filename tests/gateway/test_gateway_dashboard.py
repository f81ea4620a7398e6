"""The dashboard's Gateway page, built from call and key rows in a real store (the page
reads the store only; it never imports the gateway)."""

from __future__ import annotations

import time

import pytest

pn = pytest.importorskip("panel")


def _calls(now):
    calls = []
    for i in range(40):
        route = "chat" if i % 4 else "embed"
        calls.append({"call_id": f"c{i}", "time": now - i * 30_000, "route": route,
                      "provider": "openai", "model": "gpt-4o-mini",
                      "key_name": "team-a" if i % 2 else None,
                      "status": 502 if i % 10 == 0 else 200, "latency_ms": 10.0 + i,
                      "prompt_tokens": 3, "completion_tokens": 2, "cost": 0.001,
                      "trace_id": f"tr-{i:032x}", "error": "provider down" if i % 10 == 0 else None,
                      "fallbacks": 0, "stream": 0, "cached": 0, "experiment_id": None})
    return calls


@pytest.fixture
def page(client):
    from kernelflow_dashboard import context

    client.create_gateway_key("team-a", budget=5.0, rpm=60, routes=["chat"])
    client.record_gateway_calls(_calls(int(time.time() * 1000)))
    context.configure(client.tracking_uri)
    from kernelflow_dashboard.ui.gateway import gateway_page

    return gateway_page()


def _objects(viewable, kind):
    return [o for o in viewable.select(kind)]


def test_routes_keys_and_recent_calls(page):
    tables = {t.css_classes[0]: t.value for t in _objects(page, pn.widgets.Tabulator)}
    routes = tables["kf-gateway-routes"].set_index("route")
    assert routes.loc["chat", "calls"] == 30 and routes.loc["embed", "calls"] == 10
    assert routes.loc["embed", "errors %"] == 20.0  # calls 0 and 20 of 0, 4, ..., 36 fail
    assert routes.loc["chat", "tokens"] == 150
    keys = tables["kf-gateway-keys"].set_index("key")
    assert keys.loc["team-a", "spend $"] == pytest.approx(0.02)
    assert keys.loc["team-a", "calls (1 h)"] == 20 and keys.loc["team-a", "routes"] == "chat"
    html = "".join(o.object for o in _objects(page, pn.pane.HTML))
    assert 'href="traces?trace_id=tr-' in html and "provider down" in html
    assert _objects(page, pn.pane.HoloViews)  # calls per minute by route


def test_the_page_without_calls(client):
    from kernelflow_dashboard import context
    from kernelflow_dashboard.ui.gateway import gateway_page

    context.configure(client.tracking_uri)
    html = "".join(o.object for o in gateway_page().select(pn.pane.HTML))
    assert "No gateway calls" in html and "kernelflow gateway --config" in html


def test_the_navigation_links_the_page():
    from kernelflow_dashboard.ui import PAGES
    from kernelflow_dashboard.ui.shell import navigation

    assert "gateway" in PAGES
    assert 'href="gateway"' in navigation("gateway").object
