"""Where serving's start-up time goes: ``KERNELFLOW_SERVE_PHASES=FILE`` makes the driver
and each replica append ``<unix time> <pid> <phase>`` lines to FILE.

``bench/serving.py --phases`` sets it and prints the breakdown from the command's start.
Without the variable, :func:`mark` does nothing.
"""

from __future__ import annotations

import os
import time

ENV = "KERNELFLOW_SERVE_PHASES"


def mark(phase: str) -> None:
    """Record that ``phase`` was reached now (when ``$KERNELFLOW_SERVE_PHASES`` names a file)."""
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        with open(path, "a") as f:
            f.write(f"{time.time():.3f} {os.getpid()} {phase}\n")
    except OSError:
        pass
