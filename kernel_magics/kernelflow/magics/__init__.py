"""The ``%kf`` / ``%%kf`` magics (also ``%kernelflow``): kernelflow from notebook cells.

``%load_ext kernelflow`` registers them. Subcommands are git-style and each has
``--help``; ``%kf --help`` lists them all. Heavy libraries (ipywidgets, models,
the dashboard) load only when a subcommand needs them.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..errors import KernelflowError
from . import dashboard, evaluate, traces, tracking, views  # noqa: F401 - registers subcommands
from .parser import HelpShown, all_commands, build_parser, split_line

__all__ = ["KernelflowMagics", "load_ipython_extension", "unload_ipython_extension"]


@magics_class
class KernelflowMagics(Magics):
    """The ``%kf`` magic family."""

    @line_cell_magic
    def kf(self, line: str, cell: str | None = None) -> Any:
        """kernelflow: track runs, compare them, register models. ``%kf --help`` lists subcommands."""
        __tracebackhide__ = True
        return self._dispatch(line, cell)

    @line_cell_magic
    def kernelflow(self, line: str, cell: str | None = None) -> Any:
        """Same as ``%kf``."""
        __tracebackhide__ = True
        return self._dispatch(line, cell)

    def _dispatch(self, line: str, cell: str | None) -> Any:
        __tracebackhide__ = True
        try:
            args = build_parser().parse_args(split_line(line))
        except HelpShown:
            return None
        name = args.command or "status"
        cmd = all_commands()[name]
        if cmd.cell and cell is None:
            raise UsageError(f"`{name}` is a cell magic: put `%%kf {name} ...` on the first line "
                             "of the cell whose code it should track.")
        if cell is not None and not cmd.cell:
            raise UsageError(f"`%kf {name}` takes no cell body; use it as a line magic (one %).")
        if cmd.cell:  # the cell's own exceptions must reach the user unchanged
            return cmd.handler(self.shell, args, cell)
        try:
            return cmd.handler(self.shell, args, cell)
        except KernelflowError as exc:
            raise UsageError(f"%kf {name}: {exc.message}") from None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kernelflow``: register ``%kf``, ``%%kf`` and ``%kernelflow``."""
    ipython.register_magics(KernelflowMagics)
    from ..tracing.notebook import enable_cell_display

    enable_cell_display(ipython)  # traces made by a cell show under it


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext kernelflow``: remove the magics and the opt-in cell hook and history capture."""
    from ..capture import disable_cell_capture, enable_history_capture

    disable_cell_capture(ipython)
    from ..tracing.notebook import disable_cell_display

    disable_cell_display(ipython)
    enable_history_capture(ipython, on=False)
    for kind in ("line", "cell"):
        for name in ("kf", "kernelflow"):
            ipython.magics_manager.magics[kind].pop(name, None)
