"""Live metric charts that redraw under a cell while training runs.

One daemon thread (the poller) serves every live chart in the process. It
reads committed points back from the store (the writer commits every 100 ms)
and redraws a chart only when its data changed. Throttling is adaptive: after
a redraw that took ``c`` seconds the chart waits at least ``c / budget``
seconds, so charts never take more than ``budget`` (2 %) of the CPU time the
training loop could use, however many points the run has.

While the run goes on the chart is shown as two outputs (see ``_fallback``): a static
copy, and the widget: a header (run, status, latest values) and the interactive
charts of ``chart.js`` as a small anywidget, fed new points by the poller; zoom, log
scale and smoothing stay as the user set them. The copy (the header and the charts
as pictures) is hidden while the widget shows, and is redrawn by the poller through
``update_display`` at most every ``COPY_INTERVAL_S`` seconds (less often when drawing
it costs more than the budget allows), so a kernel that dies or restarts mid-run
leaves the last picture in the notebook, not "model not found". When the run ends
(:meth:`LiveChart.stop`, on the cell's thread) the copy becomes the final charts:
interactive HTML with a static SVG inside and an ``image/svg+xml`` picture, so the
saved notebook shows them without a kernel; the widget's output is emptied (and
hidden) and the widget closed.
"""

from __future__ import annotations

import functools
import html
import threading
import time
from typing import Any

from ..client import Client
from ..errors import KernelflowError
from . import _data, _fmt, charts, svg

DEFAULT_MIN_INTERVAL_S = 0.5
COPY_INTERVAL_S = 1.5  # the static copy under a live chart is redrawn at most this often
_clock = time.monotonic  # when the copy is due (a test may replace it)
DEFAULT_BUDGET = 0.02
MAX_CHARTS = 12


class LiveChart:
    """Metric curves of one run, shown as a widget that updates while the run goes on.

    Args:
        run_id: the run to follow.
        keys: metric keys to chart (default: every metric the run logs).
        client: where to read from (default: the current tracking URI).
        min_interval: seconds between redraws at least.
        budget: largest share of wall time the redraws may take.
    """

    def __init__(
        self,
        run_id: str,
        keys: list[str] | None = None,
        client: Client | None = None,
        min_interval: float = DEFAULT_MIN_INTERVAL_S,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        self.run_id = run_id
        self.keys = list(keys) if keys else None
        self.client = _data.client(client)
        self.min_interval = min_interval
        self.budget = budget
        self.widget: Any = None  # the header (ipywidgets.HTML): run, status, latest values
        self.plot: Any = None  # the interactive charts (an anywidget fed with new points)
        self.view: Any = None  # both, as shown under the cell
        self._error_html = ""
        self.redraws = 0
        self.error: str | None = None
        self.next_due = 0.0
        self._counts: dict[str, int] = {}
        self._status = ""
        self._info: Any = None
        self._histories: dict = {}
        self._total_keys = 0
        self._fallback: Any = None  # the static copy shown before the widget (display())
        self._copy_stale = False  # the copy lags behind the widget
        self._copy_due = 0.0  # monotonic time before which the copy is not redrawn
        self.copies = 0  # times the copy was redrawn while the run went on
        self.copy_seconds = 0.0  # the time those redraws took, in all
        self._lock = threading.Lock()

    # -- showing -----------------------------------------------------------------
    @property
    def html(self) -> str:
        """The chart's current state as static HTML (header, one SVG chart per metric)."""
        if self._error_html or self._info is None:
            return self._error_html
        return _render(self._info, self._histories, self._total_keys)

    def build(self) -> LiveChart:
        """Create the widgets (without showing them); :meth:`display` calls it."""
        import ipywidgets

        if self.view is None:
            self.widget = ipywidgets.HTML(value=self._error_html)
            self.plot = _plot_class()()
            self.view = ipywidgets.VBox([self.widget, self.plot],
                                        layout=ipywidgets.Layout(width="100%"))
            self.view.add_class("kernelflow-live")
        return self

    def display(self) -> LiveChart:
        """Show the (initially empty) widgets in the current cell's output, after their copy.

        The static copy (hidden while the widget shows) gets the first points at once, then
        follows the chart every ``COPY_INTERVAL_S`` seconds at most, and becomes the final
        charts when :meth:`stop` runs.
        """
        from ._fallback import StaticFallback

        self.build()
        with self._lock:
            self._fallback = StaticFallback()
            self._fallback.show(self.view, self._copy_html(), self._copy_text())
            self._copy_due = _clock()  # the first points are copied at once, then at most
            # every COPY_INTERVAL_S
        return self

    def _copy_html(self) -> str:
        """The static copy: the header and the charts as pictures, as of now."""
        run = f"<code>{html.escape(self.run_id)}</code>"
        if self._error_html:
            return self._error_html
        if self._info is None or not any(self._counts.values()):
            return (f'<div class="kf-live kf-live-pending" style="color:{_fmt.FG2}">kernelflow: '
                    f"live charts of run {run}, no points yet</div>")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        return (f'<div class="kf-live kf-live-copy">'
                f"{_head(self._info, self._histories, self._total_keys)}"
                f"{charts.static_grid(self._lines())}"
                f'<div class="kf-copy-note" style="font:11px var(--jp-ui-font-family, sans-serif);'
                f'color:{_fmt.FG2}">drawn at {stamp} while the run went on; the live chart '
                f"needs the kernel that ran it</div></div>")

    def _copy_text(self) -> str:
        if self._info is None or self.error:
            return f"kernelflow live chart of run {self.run_id}" + (
                f": {self.error}" if self.error else "")
        return _summary(self._info, self._histories)

    def _update_copy(self, force: bool = False) -> None:
        """Redraw the static copy if it lags and is due, or lags and ``force`` (under ``_lock``)."""
        if self._fallback is None or not self._copy_stale:
            return
        now = _clock()
        if now < self._copy_due and not force:
            return
        start = time.perf_counter()
        self._fallback.update(self._copy_html(), self._copy_text())
        cost = time.perf_counter() - start
        self._copy_stale = False
        self.copies += 1
        self.copy_seconds += cost
        self._copy_due = now + max(COPY_INTERVAL_S, cost / self.budget)

    def start(self) -> LiveChart:
        """Begin redrawing in the background until the run ends or :meth:`stop`."""
        _poller().add(self)
        return self

    def stop(self) -> None:
        """Stop following the run, draw its final state and make it the output's static content.

        Call it from the cell's thread: the output is replaced with ``update_display``.
        """
        _poller().remove(self)
        self.refresh(force=True, copy=False)
        self.finalize()

    def final_bundle(self) -> dict:
        """The final charts as a MIME bundle: interactive HTML, an SVG picture, a text summary."""
        info = self._info
        if info is None or self.error:
            text = f"kernelflow live chart: {self.error or 'no data'}"
            return {"text/html": self.html or html.escape(text), "text/plain": text}
        lines = self._lines()
        head = _head(info, self._histories, self._total_keys)
        bundle = {"text/html": charts.interactive_html(lines, head, "kf-live kf-final"),
                  "text/plain": _summary(info, self._histories)}
        if lines:
            bundle["image/svg+xml"] = charts.svg_image(lines, _summary(info, self._histories))
        return bundle

    def finalize(self) -> None:
        """Make :meth:`final_bundle` the copy, empty the widget's output and close the widget."""
        with self._lock:
            fallback, self._fallback = self._fallback, None  # the poller stops updating the copy
        if fallback is None:
            return
        try:
            fallback.finish(self.final_bundle())
        finally:
            for w in (self.view, self.widget, self.plot):
                if w is not None:
                    w.close()

    def _lines(self) -> dict[str, list[charts.Line]]:
        info = self._info
        color = svg.run_color(info.run_id)
        return {k: [charts.Line(info.run_name, color, h.steps, h.timestamps, h.values,
                                float(info.start_time or 0))]
                for k, h in self._histories.items() if len(h)}

    def __enter__(self) -> LiveChart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- drawing -----------------------------------------------------------------
    def refresh(self, force: bool = False, copy: bool = True) -> bool:
        """Read the run's committed points and redraw if anything changed.

        The static copy is redrawn too when it is due (see ``COPY_INTERVAL_S``).

        Args:
            force: redraw even when nothing changed.
            copy: whether the static copy may be redrawn now.

        Returns:
            True when the chart was redrawn.
        """
        with self._lock:  # the poller and the cell thread may both refresh
            try:
                drawn = self._refresh(force)
            except KernelflowError as exc:
                self.error = exc.message
                self._set_html(f'<div class="kf-live-error">kernelflow live chart: '
                               f"{html.escape(exc.message)}</div>")
                drawn = True
            self._copy_stale = self._copy_stale or drawn
            if copy:
                self._update_copy(force=bool(self.error) or self.finished)
            return drawn

    def _refresh(self, force: bool) -> bool:
        info = _data.run_info(self.client, self.run_id)
        keys = self.keys or _data.metric_keys(self.client, self.run_id)
        histories = {k: _data.history(self.client, self.run_id, k) for k in keys[:MAX_CHARTS]}
        counts = {k: len(h) for k, h in histories.items()}
        if counts == self._counts and info.status == self._status and not force:
            return False
        self._counts, self._status = counts, info.status
        self._info, self._histories, self._total_keys = info, histories, len(keys)
        if not any(counts.values()) and info.status == "RUNNING":
            return False  # stay invisible until the first point arrives
        self._error_html = ""
        self.redraws += 1
        if self.widget is not None:
            self.widget.value = f'<div class="kf-live">{_head(info, histories, len(keys))}</div>'
            self.plot.spec = charts.spec(self._lines())
        return True

    def _set_html(self, markup: str) -> None:
        self._error_html = markup
        self.redraws += 1
        if self.widget is not None:
            self.widget.value = markup

    @property
    def finished(self) -> bool:
        """True once the followed run is no longer RUNNING."""
        return bool(self._status) and self._status != "RUNNING"


def _head(info, histories: dict, total_keys: int) -> str:
    color = svg.run_color(info.run_id)
    latest = " · ".join(
        f"{html.escape(k)} {svg.format_number(float(h.values[-1]))}"
        for k, h in histories.items() if len(h)
    )
    more = f" (showing {len(histories)} of {total_keys} metrics)" if total_keys > len(histories) else ""
    n = max((len(h) for h in histories.values()), default=0)
    points = f' · <span class="kf-points" data-points="{n}">{n} points</span>' if n else ""
    return (
        f'<div class="kf-live-head" style="font:12px var(--jp-ui-font-family, sans-serif);'
        f'margin:2px 0 6px;color:{_fmt.FG1}">'
        f'<b style="color:{color}">{html.escape(info.run_name)}</b> '
        f"{_fmt.status_badge(info.status)}"
        f"{' · ' + latest if latest else ''}{points}{more}</div>"
    )


def _summary(info, histories: dict) -> str:
    latest = ", ".join(f"{k}={svg.format_number(float(h.values[-1]))}"
                       for k, h in histories.items() if len(h))
    return f"kernelflow run {info.run_name!r} ({info.run_id}) {info.status}" + (
        f" · {latest}" if latest else "")


def _render(info, histories: dict, total_keys: int) -> str:
    charts_ = [
        svg.line_chart([svg.Series(info.run_name, h.steps, h.values, svg.run_color(info.run_id))],
                       title=k)
        for k, h in histories.items()
    ]
    return f'<div class="kf-live">{_head(info, histories, total_keys)}{svg.chart_grid(charts_)}</div>'


@functools.cache
def _plot_class() -> type:
    """The live charts' anywidget class (anywidget is imported only when a chart is shown)."""
    import anywidget
    import traitlets

    class LivePlot(anywidget.AnyWidget):
        """Interactive metric charts (``chart.js``) redrawn from ``spec`` as points arrive."""

        _esm = charts.script() + _LIVE_RENDER
        spec = traitlets.Dict().tag(sync=True)

    return LivePlot


_LIVE_RENDER = """
export default { render({ model, el }) {
  const root = document.createElement("div");
  root.className = "kf-charts kf-live-plot";
  el.appendChild(root);
  let api = null;
  const draw = () => {
    const spec = model.get("spec");
    if (!spec || !spec.charts || !spec.charts.length) return;
    if (api) api.update(spec); else api = kfCharts(root, spec);
  };
  model.on("change:spec", draw);
  draw();
} };
"""


class _Poller:
    """The one background thread that redraws every live chart in the process."""

    def __init__(self) -> None:
        self._charts: list[LiveChart] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, chart: LiveChart) -> None:
        with self._lock:
            if chart not in self._charts:
                chart.next_due = time.monotonic() + chart.min_interval
                self._charts.append(chart)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kernelflow-live", daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, chart: LiveChart) -> None:
        with self._lock:
            if chart in self._charts:
                self._charts.remove(chart)

    def charts(self) -> list[LiveChart]:
        with self._lock:
            return list(self._charts)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._charts:
                    self._thread = None  # add() starts a new thread when needed
                    return
                charts = list(self._charts)
            now = time.monotonic()
            for chart in charts:
                if chart.next_due <= now:
                    self._tick(chart)
            wait = min((c.next_due for c in self.charts()), default=now) - time.monotonic()
            self._wake.wait(max(0.01, wait))
            self._wake.clear()

    def _tick(self, chart: LiveChart) -> None:
        start = time.perf_counter()
        try:
            chart.refresh()
        except Exception as exc:  # a broken chart must not kill the thread serving the others
            chart.error = f"{type(exc).__name__}: {exc}"
        cost = time.perf_counter() - start
        chart.next_due = time.monotonic() + max(chart.min_interval, cost / chart.budget)
        if chart.finished or chart.error:
            self.remove(chart)


_the_poller: _Poller | None = None


def _require_run(run_id: str) -> None:
    from ..errors import ResourceNotFoundError
    from ..fluent import get_run

    try:
        get_run(run_id)
    except ResourceNotFoundError:
        raise KernelflowError(
            f"kernelflow.live(): no run with id {run_id!r} in this store. Copy the id from "
            "`%kf runs` or kernelflow.search_runs(), or omit it to follow the active run."
        ) from None


def _poller() -> _Poller:
    global _the_poller
    if _the_poller is None:
        _the_poller = _Poller()
    return _the_poller


def live(
    run_id: str | None = None, keys: list[str] | None = None,
    min_interval: float = DEFAULT_MIN_INTERVAL_S,
) -> LiveChart:
    """Show live metric charts of the active run (or ``run_id``) under the current cell.

    The charts redraw in the background until the run ends; as a context manager
    (``with kernelflow.live(): train()``) they stop on exit and the output becomes the
    final charts, kept in the saved notebook (``%%kf run`` cells do this by themselves;
    otherwise call ``.stop()`` in the cell where the run ended).

    Args:
        run_id: the run to follow (default: the active run).
        keys: metric keys to chart (default: all).
        min_interval: seconds between redraws at least.

    Raises:
        KernelflowError: when no run is given and none is active, or ``run_id`` is unknown.
    """
    if run_id is not None:
        _require_run(run_id)
    else:
        from ..fluent import active_run

        active = active_run()
        if active is None:
            raise KernelflowError(
                "kernelflow.live() has no run to follow: start one first (kernelflow.start_run() "
                "or a %%kf run cell), or pass run_id=."
            )
        run_id = active.info.run_id
    return LiveChart(run_id, keys, min_interval=min_interval).display().start()
