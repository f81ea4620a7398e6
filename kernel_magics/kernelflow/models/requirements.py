"""``requirements.txt`` for a model: the packages it needs, pinned to installed versions."""

from __future__ import annotations

import os
import re
from importlib import metadata

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
    """
    if isinstance(pip_requirements, str):
        with open(pip_requirements) as fh:
            lines = [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
    elif pip_requirements is not None:
        lines = [str(r) for r in pip_requirements]
    else:
        lines = default_requirements(packages)
    for req in extra_pip_requirements or []:
        name = re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower()
        lines = [ln for ln in lines if re.split(r"[<>=!~\[; ]", ln, maxsplit=1)[0].lower() != name]
        lines.append(req)
    with open(os.path.join(model_dir, REQUIREMENTS_FILE), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines
