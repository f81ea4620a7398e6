"""The run an evaluation logs into: the active one, or a new one ended when done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def evaluation_run(run_name: str) -> Iterator[str]:
    """Yield the active run's id; with none active, start ``run_name`` and end it after
    (FINISHED, or FAILED when the evaluation raised)."""
    from .. import fluent

    active = fluent.active_run()
    if active is not None:
        yield active.info.run_id
        return
    run = fluent.start_run(run_name=run_name, capture=False)
    status = "FAILED"
    try:
        yield run.info.run_id
        status = "FINISHED"
    finally:
        fluent.end_run(status, run_id=run.info.run_id)
