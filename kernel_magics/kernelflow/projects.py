"""MLflow Projects: run a project folder's entry point in the current environment, as one run.

A project is a folder with an ``MLproject`` file (MLflow's format)::

    name: tutorial
    python_env: python_env.yaml          # or conda_env: / docker_env: (see below)
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          data: path
        command: "python train.py --alpha {alpha} --data {data}"

or, without one, any ``.py`` or ``.sh`` file named as the entry point. ``kernelflow run DIR
-P alpha=0.1`` checks the parameters (every one without a default is required; ``float``
and ``int`` values must be numbers; a ``path`` must exist and becomes absolute; a ``uri``
needs a scheme), fills the command template (values shell-quoted; undeclared parameters
are appended as ``--key value``, as MLflow does), then runs it in the project folder as
one run: its parameters are logged, the git commit recorded, and the exit code sets the
status (0: FINISHED, else FAILED). The command sees ``KERNELFLOW_RUN_ID`` and
``MLFLOW_RUN_ID``, so code using ``kernelflow.start_run()`` (or mlflow's, against a
kernelflow server) logs into that run.

The environment is always the current one (MLflow's ``--env-manager local``): the
``python_env``/``conda_env`` files are not built; ``docker_env`` projects and other
environment managers are refused with an error saying so.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from .errors import InvalidParameterError, ResourceNotFoundError

SUPPORTED_ENV_MANAGERS = ("local",)
_MLFLOW_ENV_MANAGERS = ("virtualenv", "conda", "uv")
_TYPES = ("string", "str", "float", "int", "path", "uri")


@dataclass
class EntryPoint:
    """One entry point: its typed parameters (``{name: (type, default)}``) and command."""

    name: str
    parameters: dict[str, tuple[str, Any]] = field(default_factory=dict)
    command: str = ""


@dataclass
class Project:
    """A parsed project folder."""

    path: str
    name: str
    entry_points: dict[str, EntryPoint]
    env: str | None = None  # python_env, conda_env, docker_env or None

    def entry_point(self, name: str) -> EntryPoint:
        """The entry point ``name``, or a ``.py``/``.sh`` file of the project by that name.

        Raises:
            InvalidParameterError: for neither.
        """
        if name in self.entry_points:
            return self.entry_points[name]
        script = os.path.join(self.path, name)
        if os.path.isfile(script) and name.endswith((".py", ".sh")):
            runner = shlex.quote(sys.executable) if name.endswith(".py") else \
                os.environ.get("SHELL", "bash")
            return EntryPoint(name, {}, f"{runner} {shlex.quote(name)}")
        raise InvalidParameterError(
            f"Could not find entry point {name!r} in {self.path}: the MLproject file defines "
            f"{sorted(self.entry_points) or 'none'}, and there is no .py or .sh file of that "
            "name. Pass --entry-point NAME.")


def load_project(path: str) -> Project:
    """Read a project folder (its ``MLproject`` file, if any).

    Raises:
        ResourceNotFoundError: the folder does not exist.
        InvalidParameterError: the ``MLproject`` file is not valid.
    """
    import yaml

    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise ResourceNotFoundError(f"No project folder at {path}.")
    spec_file = next((os.path.join(path, n) for n in ("MLproject", "mlproject")
                      if os.path.isfile(os.path.join(path, n))), None)
    if spec_file is None:
        return Project(path, os.path.basename(path), {})
    try:
        with open(spec_file, encoding="utf-8") as f:
            spec = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise InvalidParameterError(f"{spec_file} is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{spec_file} must be a YAML mapping (name, entry_points).")
    envs = [k for k in ("python_env", "conda_env", "docker_env") if k in spec]
    if len(envs) > 1:
        raise InvalidParameterError(f"{spec_file} names several environments ({envs}); keep one.")
    points = {str(n): _entry_point(spec_file, str(n), e)
              for n, e in (spec.get("entry_points") or {}).items()}
    return Project(path, str(spec.get("name") or os.path.basename(path)), points,
                   envs[0] if envs else None)


def _entry_point(spec_file: str, name: str, raw: Any) -> EntryPoint:
    if not isinstance(raw, dict) or not isinstance(raw.get("command"), str):
        raise InvalidParameterError(
            f"Entry point {name!r} in {spec_file} needs a 'command' string.")
    params = {}
    for pname, pspec in (raw.get("parameters") or {}).items():
        kind, default = (pspec, None) if isinstance(pspec, str) else \
            ((pspec or {}).get("type", "string"), (pspec or {}).get("default"))
        if kind not in _TYPES:
            raise InvalidParameterError(
                f"Parameter {pname!r} of entry point {name!r} has unknown type {kind!r}; use "
                "string, float, int, path or uri.")
        params[str(pname)] = (kind, default)
    return EntryPoint(name, params, raw["command"])


def resolve_parameters(entry: EntryPoint, given: dict[str, Any]) -> tuple[dict, dict]:
    """Check ``given`` against the entry point: ``(declared values, extra values)``.

    Raises:
        InvalidParameterError: a parameter without a default is missing, or a value does not
            fit its type.
    """
    missing = [n for n, (_, default) in entry.parameters.items()
               if n not in given and default is None]
    if missing:
        raise InvalidParameterError(
            "No value given for missing parameters: "
            + ", ".join(f"'{n}'" for n in missing)
            + f". Pass them with -P NAME=VALUE (entry point {entry.name!r}).")
    values = {}
    for name, (kind, default) in entry.parameters.items():
        values[name] = _typed(name, kind, given[name] if name in given else default)
    extra = {k: v for k, v in given.items() if k not in entry.parameters}
    return values, extra


def _typed(name: str, kind: str, value: Any) -> Any:
    text = str(value)
    if kind in ("float", "int"):
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or (kind == "int" and not number.is_integer()):
            raise InvalidParameterError(
                f"Invalid value {text!r} for parameter '{name}': expected {kind}.")
        return value
    if kind == "path":
        local = urlparse(text).path if text.startswith("file:") else text
        if not os.path.exists(local):
            raise InvalidParameterError(
                f"Got value {text} for parameter {name}, but no such file or directory was "
                "found.")
        return os.path.abspath(local)
    if kind == "uri" and not urlparse(text).scheme and not os.path.isabs(text):
        raise InvalidParameterError(f"Expected URI for parameter {name} but got {text}.")
    return value


def command_line(entry: EntryPoint, values: dict, extra: dict) -> str:
    """The shell command: the template filled with quoted values, extras as ``--k v``."""
    quoted = {k: shlex.quote(str(v)) for k, v in values.items()}
    try:
        filled = entry.command.format(**quoted)
    except (KeyError, IndexError) as exc:
        raise InvalidParameterError(
            f"The command of entry point {entry.name!r} uses {exc} which is not one of its "
            "parameters; declare it under 'parameters'.") from None
    parts = [filled] + [f"--{shlex.quote(str(k))} {shlex.quote(str(v))}" for k, v in extra.items()]
    return " ".join(parts)


def check_env_manager(project: Project, env_manager: str | None) -> str:
    """The environment the project runs in (always ``local``: the current one).

    Raises:
        InvalidParameterError: for another environment manager or a ``docker_env`` project.
    """
    if env_manager not in (None, *SUPPORTED_ENV_MANAGERS):
        hint = " (MLflow's; kernelflow runs projects in the current environment)" \
            if env_manager in _MLFLOW_ENV_MANAGERS else ""
        raise InvalidParameterError(
            f"Environment manager {env_manager!r} is not supported{hint}: use --env-manager "
            f"local, after installing the project's requirements yourself.")
    if project.env == "docker_env":
        raise InvalidParameterError(
            f"Project {project.name!r} asks for a docker_env, which kernelflow does not run: "
            "supported is running in the current environment (--env-manager local) for "
            "projects with python_env, conda_env or no environment.")
    return "local"


def _git(path: str, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_project(path: str, parameters: dict[str, Any] | None = None,
                entry_point: str = "main", experiment_name: str | None = None,
                env_manager: str | None = None, run_name: str | None = None):
    """Run an MLflow Project folder's entry point in the current environment, as one run.

    Args:
        path: the project folder (with an ``MLproject`` file, or scripts).
        parameters: ``-P`` values, checked against the entry point's typed parameters.
        entry_point: an entry point of the ``MLproject`` file, or a ``.py``/``.sh`` file.
        experiment_name: experiment of the run (created if needed; default: the active one).
        env_manager: only ``"local"`` (or None) is supported.
        run_name: the run's name (default: generated).

    Returns:
        The ended run: FINISHED when the command exits with 0, FAILED otherwise (the exit
        code is the ``kernelflow.exitCode`` tag); KILLED if interrupted (then re-raised).

    Raises:
        InvalidParameterError: a missing or mistyped parameter, an unknown entry point, an
            unsupported environment (all before any run is created).
        ResourceNotFoundError: no such folder.
    """
    from . import fluent
    from .client import default_client

    project = load_project(path)
    env = check_env_manager(project, env_manager)
    entry = project.entry_point(entry_point)
    values, extra = resolve_parameters(entry, dict(parameters or {}))
    command = command_line(entry, values, extra)
    c = default_client()
    if experiment_name:
        exp = c.get_experiment_by_name(experiment_name)
        exp_id = exp.experiment_id if exp else c.create_experiment(experiment_name)
    else:
        exp_id = fluent._current_experiment_id()
    tags = {"mlflow.source.type": "PROJECT", "mlflow.source.name": project.path,
            "mlflow.project.entryPoint": entry.name, "mlflow.project.env": env,
            "mlflow.project.backend": "local"}
    commit = _git(project.path, "rev-parse", "HEAD")
    if commit:
        tags["mlflow.source.git.commit"] = commit
        for tag, args in (("mlflow.source.git.branch", ("rev-parse", "--abbrev-ref", "HEAD")),
                          ("mlflow.source.git.repoURL", ("config", "--get", "remote.origin.url"))):
            if value := _git(project.path, *args):
                tags[tag] = value
    run = c.create_run(exp_id, tags=tags, run_name=run_name)
    run_id = run.info.run_id
    c.log_batch(run_id, params=_params({**values, **extra}), synchronous=True)
    if project.env in ("python_env", "conda_env"):
        print(f"kernelflow: running in the current environment; the project's {project.env} "
              "is not built (install its requirements yourself).", file=sys.stderr)
    try:
        code = _execute(command, project.path, run_id, exp_id, c.tracking_uri)
    except KeyboardInterrupt:
        c.set_terminated(run_id, "KILLED")
        raise
    c.set_tag(run_id, "kernelflow.exitCode", str(code), synchronous=True)
    c.set_terminated(run_id, "FINISHED" if code == 0 else "FAILED")
    return c.get_run(run_id)


def _params(values: dict) -> list:
    from .entities import Param

    return [Param(str(k), str(v)) for k, v in values.items()]


def _execute(command: str, cwd: str, run_id: str, experiment_id: str, tracking_uri: str) -> int:
    # "python" in a command is this environment's, as if it were activated.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "KERNELFLOW_RUN_ID": run_id, "MLFLOW_RUN_ID": run_id,
           "KERNELFLOW_EXPERIMENT_ID": str(experiment_id),
           "MLFLOW_EXPERIMENT_ID": str(experiment_id), "KERNELFLOW_TRACKING_URI": tracking_uri}
    if tracking_uri.startswith(("http://", "https://")):
        env["MLFLOW_TRACKING_URI"] = tracking_uri  # mlflow's client logs to the same server
    print(f"=== Running command '{command}' in run {run_id} ===", flush=True)
    return subprocess.run(command, shell=True, cwd=cwd, env=env).returncode
