"""A served model: its URI resolved through the registry, loaded, and kept current.

A ``ModelSlot`` holds one loaded model. When the URI follows something that can move
(``models:/name@alias``, ``models:/name/Production``, ``models:/name/latest``),
:meth:`ModelSlot.refresh` re-resolves it; a new version is loaded first and swapped in
with one assignment, so requests in flight keep the old model and none fails. Only
kernelflow's public API is used (``kernelflow.load_model``, ``kernelflow.Client``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import kernelflow
from kernelflow.models import parse_model_uri


@dataclass(frozen=True)
class Resolved:
    """What a model URI points at right now.

    Attributes:
        uri: the URI as given.
        load_uri: a URI naming exactly one model (``models:/name/3``, a path, ``runs:/``).
        name: the registered model's name (or the deployment's name for a path).
        version: the registry version, or None outside the registry.
        alias: the alias or stage followed (``champion``, ``Production``, ``latest``), or None.
    """

    uri: str
    load_uri: str
    name: str
    version: str | None
    alias: str | None

    @property
    def follows(self) -> bool:
        """True when the URI can point at another version later."""
        return self.alias is not None


def resolve(uri: str, client: Any) -> Resolved:
    """Resolve a model URI through the registry.

    Args:
        uri: ``models:/name@alias``, ``models:/name/3``, ``models:/name/Production``,
            ``models:/name/latest``, ``runs:/...`` or a path; ``name@alias`` and ``name/3``
            are accepted as shorthands.
        client: a ``kernelflow.Client``.

    Raises:
        kernelflow.ResourceNotFoundError: the model, version or alias does not exist; the
            message lists what does.
    """
    uri = normalize_uri(uri)
    parsed = parse_model_uri(uri)
    if parsed.kind != "models":
        name = (parsed.path or parsed.run_id or parsed.model_id or "model").rstrip("/")
        return Resolved(uri, uri, name.replace("\\", "/").split("/")[-1] or "model", None, None)
    name = parsed.name or ""
    try:
        if parsed.alias:
            mv = client.get_model_version_by_alias(name, parsed.alias)
            label = parsed.alias
        elif parsed.version:
            mv = client.get_model_version(name, parsed.version)
            label = None
        else:
            stages = None if parsed.latest else [parsed.stage]
            found = client.get_latest_versions(name, stages=stages)
            if not found:
                raise kernelflow.ResourceNotFoundError(
                    f"Registered model {name!r} has no version in stage {parsed.stage!r}.")
            mv = max(found, key=lambda v: int(v.version))
            label = "latest" if parsed.latest else parsed.stage
    except kernelflow.ResourceNotFoundError as exc:
        raise kernelflow.ResourceNotFoundError(f"{exc} {_what_exists(name, client)}") from None
    return Resolved(uri, f"models:/{name}/{mv.version}", name, str(mv.version), label)


def normalize_uri(uri: str) -> str:
    """``digits@champion`` and ``digits/3`` mean ``models:/digits@champion`` and ``models:/digits/3``."""
    import os

    if not isinstance(uri, str) or not uri:
        raise kernelflow.InvalidParameterError(f"A model URI must be a non-empty string, not {uri!r}.")
    if ":" in uri.split("/")[0] or os.path.exists(uri) or uri.startswith(("/", ".", "~")):
        return uri
    return f"models:/{uri}"


def _what_exists(name: str, client: Any) -> str:
    try:
        model = client.get_registered_model(name)
    except kernelflow.ResourceNotFoundError:
        names = [m.name for m in client.search_registered_models(max_results=50)]
        return f"Registered models: {', '.join(names) if names else 'none'}."
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
    aliases = ", ".join(f"@{a} -> {v}" for a, v in sorted(model.aliases.items())) or "none"
    return (f"Model {name!r} has versions {', '.join(map(str, versions)) or 'none'}; "
            f"aliases: {aliases}.")


class ModelSlot:
    """One loaded model that follows its URI.

    Args:
        uri: the model URI to serve.
        client: a ``kernelflow.Client`` on the tracking store holding the registry.
    """

    def __init__(self, uri: str, client: Any) -> None:
        self.client = client
        self.uri = normalize_uri(uri)
        self._lock = threading.Lock()
        resolved = resolve(self.uri, client)
        self._state: tuple[Resolved, Any] = (resolved, kernelflow.load_model(resolved.load_uri))
        self.last_error: str | None = None

    @property
    def current(self) -> tuple[Resolved, Any]:
        """The resolved version and its loaded model (read together, so they match)."""
        return self._state

    @property
    def resolved(self) -> Resolved:
        """What the URI points at now."""
        return self._state[0]

    @property
    def model(self) -> Any:
        """The loaded model (a ``kernelflow`` PyFuncModel)."""
        return self._state[1]

    def refresh(self, on_loading: Any = None) -> bool:
        """Re-resolve the URI; load and swap in a new version if it moved.

        Args:
            on_loading: called with the new :class:`Resolved` before its model loads
                (the deployment records UPDATING meanwhile).

        Returns:
            True when another version is now served. A version that fails to load is not
            swapped in: the old one keeps serving and ``last_error`` says why.
        """
        old = self.resolved
        if not old.follows:
            return False
        with self._lock:
            try:
                new = resolve(self.uri, self.client)
                if new.version == self._state[0].version:
                    return False
                if on_loading is not None:
                    on_loading(new)
                model = kernelflow.load_model(new.load_uri)
            except Exception as exc:  # the old version keeps serving
                self.last_error = f"{type(exc).__name__}: {exc}"
                return False
            self._state = (new, model)  # one assignment: readers see old or new, never a mix
            self.last_error = None
            return True
