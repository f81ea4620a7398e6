"""Notebooks as runs: execute a parameterised notebook as one tracked run.

Papermill's conventions: the cell tagged ``parameters`` holds defaults and the
given parameters are injected in a new cell after it. The notebook runs in a
real kernel (nbclient) that logs into the same run, so metrics logged by the
notebook land on the run that carries the parameters, the executed notebook
(as an artifact) and the outcome as its status.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from .client import Client, default_client
from .entities import Param, Run
from .errors import InvalidParameterError, ResourceNotFoundError

RUN_ID_ENV = "KERNELFLOW_RUN_ID"
INJECTED_TAG = "kernelflow-injected"
ERROR_TAG = "kernelflow.error"  # the one definition: why a run from a notebook or cell failed
_attached: str | None = None


def attach_run(run_id: str) -> None:
    """Make ``run_id`` the active run of this kernel (the injected cell of a notebook run calls it).

    ``%%kf run`` cells in the notebook then become child runs of it.
    """
    global _attached
    from . import fluent

    run = fluent.start_run(run_id=run_id)
    fluent.set_experiment(experiment_id=run.info.experiment_id)
    _attached = run_id


def attached_run_id() -> str | None:
    """The run this kernel was attached to by :func:`run_notebook`, if any."""
    return _attached


def run_notebook(
    path: str,
    parameters: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    output_path: str | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
) -> Run:
    """Execute a notebook with parameters as one run; return the ended run.

    Args:
        path: the ``.ipynb`` to execute (it runs in its own folder).
        parameters: values injected after the cell tagged ``parameters`` and logged as params.
        experiment_name: experiment of the run (created if needed; default: the active one).
        output_path: also write the executed notebook here.
        kernel_name: kernel to use (default: the notebook's own).
        timeout: seconds allowed per cell (default: no limit).

    Returns:
        The run: FINISHED if every cell ran, FAILED if a cell raised, timed out or the
        kernel died (the ``kernelflow.error`` tag says which), KILLED if interrupted.
        The executed notebook is its artifact ``notebook/<name>.ipynb``.

    Raises:
        ResourceNotFoundError: no notebook at ``path``.
        InvalidParameterError: the file is not a notebook, or there is no such kernel
            (checked before any run is created).
        KeyboardInterrupt: after ending the run KILLED.
    """
    path = os.path.abspath(path)
    nb = _read(path)
    kernel = _check_kernel(kernel_name or _kernel_of(nb), given=kernel_name is not None)
    parameters = dict(parameters or {})
    c = default_client()
    run = _create_run(c, path, parameters, experiment_name, kernel)
    run_id = run.info.run_id
    executed, status, error = nb, "FAILED", None
    try:
        executed = _inject(nb, parameters, run_id, kernel_name)
        status, error = _execute(executed, path, c, run_id, kernel_name, timeout)
    except KeyboardInterrupt:
        status, error = "KILLED", "KeyboardInterrupt: interrupted while running the notebook"
        raise
    finally:
        _finish(c, run_id, executed, path, output_path, status, error)
    return c.get_run(run_id)


def _read(path: str):
    import nbformat

    if not os.path.isfile(path):
        raise ResourceNotFoundError(f"No notebook at {path!r}. Check the path.")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a bad file
        raise InvalidParameterError(f"{path!r} is not a readable .ipynb notebook: {exc}") from exc


def _kernel_of(nb) -> str:
    return nb.metadata.get("kernelspec", {}).get("name") or "python3"


def _check_kernel(name: str, given: bool) -> str:
    """Return ``name`` if a Jupyter kernel of that name is installed, else say which are."""
    from jupyter_client.kernelspec import KernelSpecManager

    available = sorted(KernelSpecManager().find_kernel_specs())
    if name in available:
        return name
    origin = "" if given else " (named in the notebook's metadata; choose another with --kernel)"
    raise InvalidParameterError(
        f"No Jupyter kernel named {name!r}{origin}. Installed kernels: "
        f"{', '.join(available) or 'none'}. See `jupyter kernelspec list`."
    )


def _create_run(c: Client, path: str, parameters: dict, experiment_name: str | None,
                kernel: str) -> Run:
    from . import fluent
    from .capture import REQUIREMENTS_ARTIFACT, git_info, installed_packages

    if experiment_name:
        exp = c.get_experiment_by_name(experiment_name)
        exp_id = exp.experiment_id if exp else c.create_experiment(experiment_name)
    else:
        exp_id = fluent._current_experiment_id()
    parent = fluent.active_run()
    tags = {"mlflow.source.type": "NOTEBOOK", "mlflow.source.name": path,
            "kernelflow.notebook.kernel": kernel, **git_info(os.path.dirname(path))}
    run = c.create_run(exp_id, tags=tags, run_name=os.path.splitext(os.path.basename(path))[0],
                       parent_run_id=parent.info.run_id if parent else None, source_notebook=path)
    params = [Param(k, _param_text(v)) for k, v in parameters.items()]
    for start in range(0, len(params), 100):
        c.log_batch(run.info.run_id, params=params[start:start + 100])
    c.log_text(run.info.run_id, "\n".join(installed_packages()) + "\n", REQUIREMENTS_ARTIFACT)
    return run


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _inject(nb, parameters: dict, run_id: str, kernel_name: str | None):
    import nbformat
    from papermill.parameterize import parameterize_notebook

    language = nb.metadata.get("kernelspec", {}).get("language") or "python"
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # never touch the caller's copy
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])  # papermill expects every cell to have tags
    nb.metadata.setdefault("papermill", {})
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=kernel_name, language=language)
    attach = nbformat.v4.new_code_cell(
        f"# Injected by kernelflow.run_notebook: this notebook logs into run {run_id}.\n"
        f"import kernelflow.notebooks as _kf_notebooks\n_kf_notebooks.attach_run({run_id!r})",
        metadata={"tags": [INJECTED_TAG]},
    )
    nb.cells.insert(_after_parameters(nb), attach)
    return nb


def _after_parameters(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if "injected-parameters" in cell.metadata.get("tags", []):
            return i + 1
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            return i + 1
    return 0


def _execute(nb, path: str, c: Client, run_id: str, kernel_name: str | None,
             timeout: int | None) -> tuple[str, str | None]:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    env = dict(os.environ, KERNELFLOW_TRACKING_URI=c.tracking_uri, KERNELFLOW_NOTEBOOK_PATH=path,
               **{RUN_ID_ENV: run_id})
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name or _kernel_of(nb),
                            resources={"metadata": {"path": os.path.dirname(path)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        return "FAILED", _cell_error(nb) or f"{exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        return "FAILED", f"TimeoutError: a cell ran longer than {timeout} s"
    except DeadKernelError as exc:
        return "FAILED", f"DeadKernelError: the kernel died ({exc})"
    return "FINISHED", None


def _cell_error(nb) -> str | None:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')} (cell {i})"
    return None


def _finish(c: Client, run_id: str, nb, path: str, output_path: str | None, status: str,
            error: str | None) -> None:
    import nbformat

    name = os.path.basename(path)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            nbformat.write(nb, local)
            c.log_artifact(run_id, local, "notebook")
        if output_path:
            nbformat.write(nb, output_path)
        if error:
            c.set_tag(run_id, ERROR_TAG, error[:1000])
    finally:
        c.set_terminated(run_id, status)
    if error:
        print(f"kernelflow: notebook run {run_id} {status}: {error}", file=sys.stderr)
