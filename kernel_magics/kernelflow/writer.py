"""The asynchronous, batched writer: one thread per process commits logged data.

``log_metric`` appends a (timestamp, step, value) triple to a per-(run, key)
``array('d')`` under a lock and returns; it does no I/O. The writer thread
wakes every ``interval`` seconds and commits everything buffered in one
transaction, packing each buffer into one chunk row with no per-point Python
work. ``flush()`` commits synchronously. A commit error is kept and raised on
the next log call or flush. When the store is unavailable (disk, lock,
network) the batch stays queued and is retried; when an item cannot be stored
at all, the rest of the batch is committed item by item and only that item is
dropped and reported, so one bad value never jams the queue.

Durability window: a hard kill (SIGKILL, power loss) can lose what was logged
in the last ``interval`` seconds (0.1 s by default) plus one commit in flight.
``flush()``, ``end_run()``, interpreter exit and kernel shutdown lose nothing.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from array import array

from .errors import InvalidParameterError, KernelflowError, LoggingError
from .ops import Op, describe

DEFAULT_INTERVAL_S = 0.1
# Errors that mean "this data cannot be stored", as opposed to "the store is unavailable".
# A store adds its own (the SQLite store: IntegrityError, InterfaceError) as ``DATA_ERRORS``.
DATA_ERRORS: tuple[type[BaseException], ...] = (TypeError, ValueError, OverflowError,
                                                InvalidParameterError)
TRACE_DATA_ERRORS = (*DATA_ERRORS, KeyError, AttributeError, AssertionError)
_writers: weakref.WeakSet = weakref.WeakSet()


class Writer:
    """Buffers metrics, params, tags and status changes; commits them in batches.

    Args:
        store: an object with ``write_batch(ops, metrics) -> list[str]``.
        interval: seconds between background commits.
    """

    def __init__(
        self, store, interval: float = DEFAULT_INTERVAL_S) -> None:
        self.store = store
        self.interval = interval
        self._lock = threading.Lock()  # guards the buffers
        self._commit_lock = threading.Lock()  # one commit at a time
        self._metrics: dict[tuple[str, str], array] = {}
        self._ops: list[Op] = []
        self._traces: list = []  # finished traces (kernelflow.tracing), for store.write_traces
        self._error: BaseException | None = None
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        _writers.add(self)

    # -- producer side ---------------------------------------------------------
    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Queue one metric point (already validated)."""
        self.log_points(run_id, key, (timestamp, step, value))

    def log_points(self, run_id: str, key: str, points) -> None:
        """Queue flat (timestamp, step, value, timestamp, step, value, ...) points of one metric."""
        if self._error is not None:
            self._raise_error()
        with self._lock:
            buf = self._metrics.get((run_id, key))
            if buf is None:
                buf = self._metrics[(run_id, key)] = array("d")
            buf.extend(points)
        if self._thread is None:
            self._start()

    def add_ops(self, ops: list[Op]) -> None:
        """Queue ordered param/tag/status operations."""
        if self._error is not None:
            self._raise_error()
        with self._lock:
            self._ops.extend(ops)
        if self._thread is None:
            self._start()

    def add_traces(self, traces: list) -> None:
        """Queue finished traces; never raises (tracing must not break the traced code)."""
        with self._lock:
            self._traces.extend(traces)
        if self._thread is None:
            self._start()

    def pending(self) -> int:
        """Number of queued metric points, operations and traces not yet committed."""
        with self._lock:
            return (len(self._ops) + len(self._traces)
                    + sum(len(b) for b in self._metrics.values()) // 3)

    # -- consumer side ---------------------------------------------------------
    def flush(self) -> None:
        """Commit everything queued so far; raise the last commit error, if any."""
        self._commit()
        if self._error is not None:
            self._raise_error()

    def _commit(self) -> None:
        with self._commit_lock:
            with self._lock:
                ops, metrics, traces = self._ops, self._metrics, self._traces
                self._ops, self._metrics, self._traces = [], {}, []
            if traces:
                self._commit_traces(traces)
            if not ops and not metrics:
                return
            try:
                refused = self.store.write_batch(ops, metrics)
            except getattr(self.store, "DATA_ERRORS", DATA_ERRORS):
                # Something in the batch cannot be stored: commit the rest item by item
                # so that one bad item neither jams the queue nor takes good data with it.
                refused = self._commit_items(ops, metrics)
            except BaseException as exc:  # disk, lock, network: keep it all for the retry
                self._requeue(ops, metrics)
                self._error = exc
                return
            if refused:
                self._error = LoggingError(
                    "Some logged values were refused: " + "; ".join(refused)
                    + ". The rest was saved."
                )

    def _commit_traces(self, traces: list) -> None:
        data_errors = (*getattr(self.store, "DATA_ERRORS", DATA_ERRORS), *TRACE_DATA_ERRORS)
        try:
            refused = self.store.write_traces(traces)
        except data_errors:
            refused = []
            for item in traces:  # one trace that cannot be stored must not take the rest
                try:
                    refused += self.store.write_traces([item])
                except data_errors as exc:
                    refused.append(f"trace {getattr(item, 'trace_id', '?')} ({exc!r})")
        except BaseException as exc:  # disk, lock, network: keep them for the retry
            with self._lock:
                self._traces = traces + self._traces
            self._error = exc
            return
        if refused:
            self._error = LoggingError("Some traces could not be stored and were dropped: "
                                       + "; ".join(refused))

    def _commit_items(self, ops: list[Op], metrics: dict[tuple[str, str], array]) -> list[str]:
        refused: list[str] = []
        items: list[tuple[list[Op], dict[tuple[str, str], array]]] = [([op], {}) for op in ops]
        items += [([], {key: buf}) for key, buf in metrics.items()]
        for item_ops, item_metrics in items:
            try:
                refused += self.store.write_batch(item_ops, item_metrics)
            except getattr(self.store, "DATA_ERRORS", DATA_ERRORS) as exc:
                what = describe(item_ops[0]) if item_ops else next(iter(item_metrics))
                refused.append(f"{what} could not be stored ({exc})")
        return refused

    def _requeue(self, ops: list[Op], metrics: dict[tuple[str, str], array]) -> None:
        with self._lock:
            self._ops = ops + self._ops
            for k, buf in self._metrics.items():
                if k in metrics:
                    metrics[k].extend(buf)
                else:
                    metrics[k] = buf
            self._metrics = metrics

    def _raise_error(self) -> None:
        exc, self._error = self._error, None
        if isinstance(exc, KernelflowError):
            raise exc
        raise LoggingError(
            f"Writing logged data to the tracking store failed: {exc!r}. Nothing was lost: the "
            "data is still queued and is retried on the next flush(); fix the cause "
            "(disk space, file permissions) and call kernelflow.flush()."
        ) from exc

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="kernelflow-writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._error is None:
                self._commit()

    def close(self) -> None:
        """Commit what is queued and stop the thread."""
        self._stopped = True
        self._wake.set()
        self._commit()
        if self._thread is not None:
            self._thread.join(timeout=5)


def flush_all() -> None:
    """Commit every writer in this process (atexit and kernel shutdown call this)."""
    for writer in list(_writers):
        writer._commit()
        if writer._error is not None:  # the last chance to tell someone
            print(f"kernelflow: logged data could not be saved: {writer._error}", file=sys.stderr)


atexit.register(flush_all)
