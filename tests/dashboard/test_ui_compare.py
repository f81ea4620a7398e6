"""The compare page in a real headless Chromium: curves, parallel coordinates, scatter."""

from __future__ import annotations

import pytest
from browser_helpers import (
    open_page,
    plot_titled,
    shot,
    wait_until,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(dashboard_server):
    """Three runs differing in ``lr`` and ``model`` (``seed`` shared), with acc and loss."""
    import kernelflow
    from kernelflow.entities import Metric, Param

    client = kernelflow.Client(dashboard_server.db_uri)
    exp = client.create_experiment("ui-compare")
    ids = []
    for i, (lr, model) in enumerate([("0.1", "tree"), ("0.01", "mlp"), ("0.001", "linear")]):
        rid = client.create_run(exp, run_name=f"cmp-{i}").info.run_id
        client.log_batch(rid, params=[Param("lr", lr), Param("model", model), Param("seed", "7")],
                         metrics=[Metric("acc", 0.7 + i / 10, 0, s) for s in range(3)]
                         + [Metric("loss", 1.0 - i / 10, 0, s) for s in range(3)])
        client.set_terminated(rid)
        ids.append(rid)
    client.flush()
    return {"url": f"{dashboard_server.url}/compare?runs={','.join(ids)}"}


def choose(pg, css: str, value: str) -> None:
    """Pick ``value`` in the Panel Select carrying the CSS class ``css``."""
    pg.locator(f"{css} select").select_option(value)


def test_parallel_coordinates_show_varying_params_and_follow_colour_by(seeded, page):
    open_page(page, seeded["url"], ".kf-parallel canvas")
    wait_until(page, lambda: plot_titled(page, "Parameters → acc"), "the parallel chart")
    plot = plot_titled(page, "Parameters → acc")
    assert plot["ticks"] == ["lr", "model", "acc"]  # seed is the same for all: no axis
    assert max(plot["sizes"]) == 3 * 3  # a point per run on each of the three axes
    choose(page, ".kf-pc-metric", "metrics.loss")
    wait_until(page, lambda: plot_titled(page, "Parameters → loss"), "re-coloured by loss")
    assert plot_titled(page, "Parameters → loss")["ticks"] == ["lr", "model", "loss"]
    shot(page, "compare-three-runs")


def test_scatter_follows_the_chosen_columns(seeded, page):
    open_page(page, seeded["url"], ".kf-scatter canvas")
    wait_until(page, lambda: plot_titled(page, "loss vs acc"), "the first scatter")
    start, end = plot_titled(page, "loss vs acc")["xrange"]
    assert start <= 0.7 and 0.9 <= end < 1.2  # its own range, not the parallel chart's
    choose(page, ".kf-scatter-x", "params.lr")
    choose(page, ".kf-scatter-y", "metrics.loss")
    wait_until(page, lambda: plot_titled(page, "loss vs lr"), "the new scatter")
    plot = plot_titled(page, "loss vs lr")
    assert 3 in plot["sizes"]  # all three runs are numeric here
    start, end = plot["xrange"]
    assert 0.0 < end - start < 0.2 and start <= 0.001 and end >= 0.1  # fits lr, nothing else
    shot(page, "compare-scatter")
