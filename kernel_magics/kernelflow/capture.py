"""Reproducibility capture: what a notebook run needs to be understood and re-run.

:func:`capture_run` records on a run the notebook path (when the kernel can
know it), the cell source and execution count, the git commit, branch, dirty
flag and remote URL (without credentials), the Python version and platform, and
the installed packages as ``environment/requirements.txt``. ``%%kf run``
calls it for every run it starts.

Opt-in only: the whole session's input history (``code/history.py``: it may
hold cells unrelated to the run, or secrets typed into them) with
``%%kf run --history`` or :func:`enable_history_capture` (``%kf capture history on``);
and the post-cell hook :func:`enable_cell_capture` (``%kf capture on``), which
records every cell executed while a run is active into that run's ``code/cells.py``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import Any

from .client import Client, default_client

SOURCE_TYPE = "mlflow.source.type"
SOURCE_NAME = "mlflow.source.name"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"
GIT_DIRTY = "kernelflow.source.git.dirty"
PYTHON_VERSION = "kernelflow.python.version"
PLATFORM = "kernelflow.platform"
EXECUTION_COUNT = "kernelflow.cell.execution_count"
NOTEBOOK_PATH_ENV = "KERNELFLOW_NOTEBOOK_PATH"
REQUIREMENTS_ARTIFACT = "environment/requirements.txt"

_packages_cache: tuple[tuple, list[str]] | None = None


def _shell(shell: Any = None) -> Any:
    if shell is not None:
        return shell
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def notebook_path(shell: Any = None) -> str | None:
    """The path of the running notebook, when the kernel can know it.

    Looks at, in order: ``$KERNELFLOW_NOTEBOOK_PATH`` (set by
    :func:`kernelflow.notebooks.run_notebook`), VS Code's ``__vsc_ipynb_file__``,
    ipykernel's ``__session__`` and Jupyter Server's ``$JPY_SESSION_NAME``.
    Returns None in a plain script or a kernel started without a notebook.
    """
    if path := os.environ.get(NOTEBOOK_PATH_ENV):
        return path
    ns = getattr(_shell(shell), "user_ns", None) or {}
    for name in ("__vsc_ipynb_file__", "__session__"):
        value = ns.get(name)
        if isinstance(value, str) and value.endswith(".ipynb"):
            return value
    session = os.environ.get("JPY_SESSION_NAME", "")
    return session if session.endswith(".ipynb") else None


def _git(folder: str, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", folder, *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git installed, or it hung: capture what we can without it
    return out.stdout.strip() if out.returncode == 0 else None


def redact_url(url: str) -> str:
    """``url`` without its user name and password: ``https://user:token@host/x`` → ``https://host/x``.

    Remote URLs of git repositories and tracking servers may carry credentials;
    they must never be stored in a run or shown in a notebook.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url  # scp-like "git@host:org/repo.git": a user name, no secret
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}"


def git_info(folder: str | None = None) -> dict[str, str]:
    """Commit, branch, remote URL and dirty flag of the git repository holding ``folder``.

    Returns:
        Tags to set (MLflow's ``mlflow.source.git.*`` names plus
        ``kernelflow.source.git.dirty``); empty outside a git repository.
    """
    folder = folder or os.getcwd()
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return {}
    tags = {GIT_COMMIT: commit}
    dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    tags[GIT_DIRTY] = "true" if dirty else "false"
    if (branch := _git(folder, "rev-parse", "--abbrev-ref", "HEAD")) and branch != "HEAD":
        tags[GIT_BRANCH] = branch
    if url := _git(folder, "config", "--get", "remote.origin.url"):
        tags[GIT_REPO_URL] = redact_url(url)
    return tags


def _site_signature() -> tuple:
    sig = []
    for entry in sys.path:
        try:
            sig.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(sig)


def installed_packages() -> list[str]:
    """Installed distributions as sorted ``name==version`` lines (like ``pip freeze``).

    Cached until a folder on ``sys.path`` changes (a ``pip install`` does that),
    so capturing many runs costs one scan.
    """
    global _packages_cache
    sig = _site_signature()
    if _packages_cache is not None and _packages_cache[0] == sig:
        return _packages_cache[1]
    import importlib.metadata as metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in found:
            found[name.lower()] = f"{name}=={dist.version}"
    lines = [found[k] for k in sorted(found)]
    _packages_cache = (sig, lines)
    return lines


def environment_tags() -> dict[str, str]:
    """Python version and platform tags."""
    return {PYTHON_VERSION: platform.python_version(), PLATFORM: platform.platform(terse=True)}


def source_tags(shell: Any = None) -> dict[str, str]:
    """Where the code comes from: notebook path (or script), git state, environment."""
    path = notebook_path(shell)
    if path:
        tags = {SOURCE_TYPE: "NOTEBOOK", SOURCE_NAME: path}
    elif _shell(shell) is not None:
        tags = {SOURCE_TYPE: "NOTEBOOK", SOURCE_NAME: "<ipython>"}
    else:
        tags = {SOURCE_TYPE: "LOCAL", SOURCE_NAME: os.path.abspath(sys.argv[0] or "<python>")}
    folder = os.path.dirname(os.path.abspath(path)) if path and os.path.exists(path) else None
    tags.update(git_info(folder))
    tags.update(environment_tags())
    return tags


def session_history(shell: Any = None) -> str:
    """Every input of this IPython session so far, as one script with ``# In[n]:`` headers."""
    inputs = (getattr(_shell(shell), "user_ns", None) or {}).get("In") or []
    return "".join(
        f"# In[{n}]:\n{src.rstrip()}\n\n" for n, src in enumerate(inputs) if n and src.strip()
    )


def capture_run(
    run_id: str,
    cell_source: str | None = None,
    execution_count: int | None = None,
    shell: Any = None,
    client: Client | None = None,
    packages: bool = True,
    history: bool = False,
) -> dict[str, str]:
    """Record the reproducibility facts of the current notebook on a run.

    Args:
        run_id: the run to annotate.
        cell_source: the source of the cell that runs the code (``code/cell.py``).
        execution_count: that cell's execution count.
        shell: the IPython shell (default: the running one, if any).
        client: where to log (default: the current tracking URI).
        packages: also log the installed packages as ``environment/requirements.txt``.
        history: also log every input of the session so far as ``code/history.py``.

    Returns:
        The tags that were set.
    """
    c = client or default_client()
    tags = source_tags(shell)
    if execution_count is not None:
        tags[EXECUTION_COUNT] = str(execution_count)
    c.log_batch(run_id, tags=_run_tags(tags))
    if cell_source is not None:
        c.log_text(run_id, cell_source, "code/cell.py")
    if history and (inputs := session_history(shell)):
        c.log_text(run_id, inputs, "code/history.py")
    if packages:
        c.log_text(run_id, "\n".join(installed_packages()) + "\n", REQUIREMENTS_ARTIFACT)
    return tags


def _run_tags(tags: dict[str, str]) -> list:
    from .entities import RunTag

    return [RunTag(k, v) for k, v in tags.items()]


class CellRecorder:
    """The opt-in post-cell hook: appends each cell run while a run is active to ``code/cells.py``."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.cells: dict[str, list[str]] = {}

    def post_run_cell(self, result: Any) -> None:
        """IPython ``post_run_cell`` event handler."""
        from .fluent import active_run

        run = active_run()
        source = getattr(getattr(result, "info", None), "raw_cell", None)
        if run is None or not source or not source.strip():
            return
        ok = "ok" if getattr(result, "success", True) else "error"
        count = getattr(result, "execution_count", None)
        cells = self.cells.setdefault(run.info.run_id, [])
        cells.append(f"# In[{count}] ({ok}):\n{source.rstrip()}\n\n")
        try:
            default_client().log_text(run.info.run_id, "".join(cells), "code/cells.py")
        except Exception as exc:  # a hook must never break the user's next cell
            print(f"kernelflow: could not record the cell on run {run.info.run_id}: {exc}",
                  file=sys.stderr)


_recorders: dict[int, CellRecorder] = {}


def enable_cell_capture(shell: Any = None) -> CellRecorder:
    """Turn on the post-cell hook that records cells run while a run is active."""
    shell = _shell(shell)
    if shell is None:
        from .errors import KernelflowError

        raise KernelflowError("Cell capture needs IPython: call it from a notebook or IPython.")
    if id(shell) not in _recorders:
        recorder = _recorders[id(shell)] = CellRecorder(shell)
        shell.events.register("post_run_cell", recorder.post_run_cell)
    return _recorders[id(shell)]


def disable_cell_capture(shell: Any = None) -> bool:
    """Turn the post-cell hook off; return True if it was on."""
    shell = _shell(shell)
    recorder = _recorders.pop(id(shell), None)
    if recorder is None:
        return False
    shell.events.unregister("post_run_cell", recorder.post_run_cell)
    return True


def cell_capture_enabled(shell: Any = None) -> bool:
    """Whether the post-cell hook is on for this shell."""
    return id(_shell(shell)) in _recorders


_history_shells: set[int] = set()


def enable_history_capture(shell: Any = None, on: bool = True) -> None:
    """Record the session's input history (``code/history.py``) on each ``%%kf run`` (or stop)."""
    key = id(_shell(shell))
    if on:
        _history_shells.add(key)
    else:
        _history_shells.discard(key)


def history_capture_enabled(shell: Any = None) -> bool:
    """Whether ``%%kf run`` records the session's input history in this shell."""
    return id(_shell(shell)) in _history_shells
