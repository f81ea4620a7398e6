"""``requirements.txt`` for a model: the packages it needs, pinned to installed versions."""

from __future__ import annotations

import os
import re
from importlib import metadata
from typing import Any

from ..errors import InvalidParameterError

REQUIREMENTS_FILE = "requirements.txt"
BASE_PACKAGES = ("kernelflow", "numpy", "pandas", "cloudpickle")
_IMPORT_TO_DIST = {"sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python", "yaml": "pyyaml"}


def installed_version(dist: str) -> str | None:
    """Version of an installed distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def distribution_of(module: str) -> str | None:
    """The pip distribution that provides ``module`` (None for stdlib or local code)."""
    top = module.split(".")[0]
    if top in ("__main__", "builtins", "kernelflow"):
        return None
    # Most packages share their import name (torch, keras, xgboost); scanning every
    # installed distribution (packages_distributions) would take seconds.
    for name in (_IMPORT_TO_DIST.get(top, top), top.replace("_", "-")):
        if installed_version(name) is not None:
            return name
    return None


def pin(dist: str) -> str:
    """``dist==<installed version>`` (a CPU build's local tag dropped), or ``dist``."""
    version = installed_version(dist)
    if version is None:
        return dist
    return f"{dist}=={version.split('+')[0]}"


def default_requirements(packages: tuple[str, ...]) -> list[str]:
    """The base packages plus the flavor's, each pinned; absent ones are skipped."""
    seen: list[str] = []
    for dist in (*BASE_PACKAGES, *packages):
        if dist not in seen and installed_version(dist) is not None:
            seen.append(dist)
    return [pin(d) for d in seen]


def write_requirements(
    model_dir: str,
    packages: tuple[str, ...],
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | None = None,
) -> list[str]:
    """Write ``requirements.txt`` and return its lines.

    ``pip_requirements`` replaces the inferred list (a list of lines or the
    path of a requirements file); ``extra_pip_requirements`` adds to it.

    Raises:
        InvalidParameterError: a requirement argument of the wrong type, or a
            requirements file that cannot be read.
    """
    if isinstance(pip_requirements, (str, os.PathLike)):
        lines = _read_requirements_file(pip_requirements)
    elif pip_requirements is not None:
        lines = _check_list(pip_requirements, "pip_requirements")
    else:
        lines = default_requirements(packages)
    for req in _check_list(extra_pip_requirements, "extra_pip_requirements"):
        name = re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower()
        lines = [ln for ln in lines if re.split(r"[<>=!~\[; ]", ln, maxsplit=1)[0].lower() != name]
        lines.append(req)
    with open(os.path.join(model_dir, REQUIREMENTS_FILE), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines


def _check_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    hint = " or the path of a requirements file" if what == "pip_requirements" else ""
    raise InvalidParameterError(
        f"{what} must be a list of requirement strings such as ['scikit-learn==1.5.0']{hint}, "
        f"not {value!r:.80}."
    )


def _read_requirements_file(path: Any) -> list[str]:
    try:
        with open(path) as fh:
            return [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise InvalidParameterError(
            f"pip_requirements: cannot read the requirements file {os.fspath(path)!r} "
            f"({exc.strerror}). Pass an existing file or a list of requirement strings."
        ) from exc
