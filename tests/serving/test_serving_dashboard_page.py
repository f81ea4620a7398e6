"""The dashboard's Deployments page reads the store's rows (no Ray, no serving import)."""

from __future__ import annotations

import pytest

pytest.importorskip("panel")


def test_the_page_lists_deployments_with_links_and_escaping(client, tracking_uri):
    from kernelflow_dashboard import context
    from kernelflow_dashboard.ui import PAGES
    from kernelflow_dashboard.ui.deployments import deployments_frame
    from kernelflow_dashboard.ui.shell import NAV

    client.record_deployment("digits", "models:/digits@champion", model_name="digits",
                             model_version=3, alias="champion", status="RUNNING",
                             url="http://127.0.0.1:8000", replicas=2)
    client.record_deployment("<b>bad</b>", "/tmp/m", status="FAILED",
                             last_error="RuntimeError: <weights> are corrupt")
    frame = deployments_frame(client.list_deployments())
    rows = {r["Name"]: r for r in frame.to_dict("records")}
    digits = rows["digits"]
    assert 'href="model?name=digits&amp;version=3"' in digits["Version"]
    assert 'href="http://127.0.0.1:8000/ping"' in digits["URL"] and "RUNNING" in digits["Status"]
    bad = rows["&lt;b&gt;bad&lt;/b&gt;"]
    assert "&lt;weights&gt;" in bad["Last error"] and "kf-failed" in bad["Status"]
    assert ("deployments", "deployments", "Deployments") in NAV and "deployments" in PAGES
    context.configure(tracking_uri)
    import panel as pn

    page = PAGES["deployments"]()
    (table,) = page.select(pn.widgets.Tabulator)
    assert sorted(table.value["Name"]) == sorted(["digits", "&lt;b&gt;bad&lt;/b&gt;"])
    nav = page.select(pn.pane.HTML)[0].object
    assert 'class="kf-active">Deployments' in nav


def test_the_page_says_how_to_serve_when_nothing_is_served(tracking_uri):
    import panel as pn

    from kernelflow_dashboard import context
    from kernelflow_dashboard.ui import PAGES

    context.configure(tracking_uri)
    page = PAGES["deployments"]()
    assert not page.select(pn.widgets.Tabulator)
    assert any("kernelflow serve" in str(p.object) for p in page.select(pn.pane.HTML))


def test_a_model_page_shows_where_its_versions_are_served(client):
    from kernelflow_dashboard.ui.deployments import served_table

    assert served_table(client, "digits") == []
    client.record_deployment("digits-prod", "models:/digits@champion", model_name="digits",
                             model_version=3, alias="champion", status="RUNNING",
                             url="http://127.0.0.1:8000")
    client.record_deployment("digits-old", "models:/digits/1", model_name="digits",
                             model_version=1, status="STOPPED", url="http://127.0.0.1:8001")
    head, table = served_table(client, "digits")
    html = table.object
    assert "digits-prod" in html and "v3" in html and "@champion" in html
    assert 'href="http://127.0.0.1:8000/ping"' in html and "digits-old" not in html
