"""The side panel's JSON API, under ``{base_url}kernelflow-lab/`` and behind Jupyter's login.

- ``GET experiments``: ``{"experiments": [{"id", "name", "runs"}], "current", "store"}``
- ``GET runs?experiment_id=ID&max_results=N``: the newest runs with their key metrics
- ``GET info``: the dashboard's path and the store, for the frontend's links
"""

from __future__ import annotations

import json
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .location import API_PATH, dashboard_path
from .reader import PanelReader


class _ReaderHandler(APIHandler):
    def initialize(self, reader: PanelReader) -> None:
        self.reader = reader

    def reply(self, read) -> None:
        """Answer with ``read()`` as JSON; a kernelflow error becomes 400/404 with its message."""
        from kernelflow import KernelflowError, ResourceNotFoundError

        try:
            body = read()
        except ResourceNotFoundError as exc:
            self._fail(404, exc)
            return
        except KernelflowError as exc:
            self._fail(400, exc)
            return
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    def _fail(self, status: int, exc: Exception) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": getattr(exc, "message", str(exc))}))


class ExperimentsHandler(_ReaderHandler):
    """GET experiments: every active experiment, its run count, and the current one."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.reply(self.reader.experiments)


class RunsHandler(_ReaderHandler):
    """GET runs?experiment_id=ID&max_results=N: the experiment's newest runs."""

    @tornado.web.authenticated
    def get(self) -> None:
        experiment_id = self.get_query_argument("experiment_id", "")
        raw_max = self.get_query_argument("max_results", "30")
        if not experiment_id:
            self._fail(400, ValueError("Pass experiment_id (from GET experiments)."))
            return
        try:
            max_results = int(raw_max)
        except ValueError:
            self._fail(400, ValueError(f"max_results must be a number, got {raw_max!r}."))
            return
        self.reply(lambda: self.reader.runs(experiment_id, max_results))


class InfoHandler(_ReaderHandler):
    """GET info: where the dashboard is on this server and which store it shows."""

    @tornado.web.authenticated
    def get(self) -> None:
        from . import __version__

        base_url = self.settings.get("base_url", "/")
        self.reply(lambda: {"dashboard": dashboard_path(base_url), "store": self.reader.tracking_uri,
                            "version": __version__})


def setup_handlers(web_app: Any, tracking_uri: str) -> PanelReader:
    """Mount the panel's API on the Jupyter server's Tornado application.

    Args:
        web_app: the server's ``tornado.web.Application``.
        tracking_uri: the store to read.

    Returns:
        The reader the handlers share.
    """
    reader = PanelReader(tracking_uri)
    base = url_path_join(web_app.settings.get("base_url", "/"), API_PATH)
    kwargs = {"reader": reader}
    web_app.add_handlers(".*$", [
        (url_path_join(base, "experiments"), ExperimentsHandler, kwargs),
        (url_path_join(base, "runs"), RunsHandler, kwargs),
        (url_path_join(base, "info"), InfoHandler, kwargs),
    ])
    return reader
