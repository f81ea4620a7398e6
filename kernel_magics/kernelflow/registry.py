"""The model registry API: ``register_model`` and the ``Client`` methods (MLflow's names).

:class:`RegistryClient` is mixed into :class:`kernelflow.Client`; it checks
arguments and calls the store (``self._store``), which owns the SQL.

Registering a model records where its files are; deleting a registered model
or a version removes only registry entries, never the run's artifacts.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from .entities import ModelLabelChange, ModelVersion, RegisteredModel
from .errors import InvalidParameterError

logger = logging.getLogger(__name__)

STAGES = ("None", "Staging", "Production", "Archived")
# MLflow's rules (mlflow/utils/validation.py), matched against the whole alias:
# with re.match, "$" would also accept a trailing newline ("champ\n").
_ALIAS = re.compile(r"[\w\-]*")
_RESERVED_ALIAS = re.compile(r"latest|v\d+", re.IGNORECASE)
MAX_ALIAS_LENGTH = 255
MAX_NAME_LENGTH = 256


def check_model_name(name: Any) -> str:
    """Return ``name`` if it can name a registered model, else raise InvalidParameterError."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"A registered model name must be a non-empty string, not {name!r}.")
    if len(name) > MAX_NAME_LENGTH or "/" in name or "@" in name:
        raise InvalidParameterError(
            f"Invalid registered model name {name!r}: use at most {MAX_NAME_LENGTH} characters "
            "and no '/' or '@' (they separate the name from the version in models:/ URIs)."
        )
    return name


def check_version(version: Any) -> int:
    """Return a version number as int (``3`` or ``"3"``), else raise InvalidParameterError."""
    try:
        number = int(str(version))
    except (TypeError, ValueError):
        number = 0
    if number < 1 or isinstance(version, bool):
        raise InvalidParameterError(
            f"Invalid model version {version!r}: versions are whole numbers from 1, like 3 or '3'."
        )
    return number


def check_stage(stage: Any) -> str:
    """Return the canonical stage name (case-insensitive), else raise InvalidParameterError."""
    for known in STAGES:
        if isinstance(stage, str) and stage.lower() == known.lower():
            return known
    raise InvalidParameterError(f"Invalid stage {stage!r}: use one of {', '.join(STAGES)}.")


def check_alias(alias: Any) -> str:
    """Return ``alias`` if MLflow's alias rules allow it, else raise InvalidParameterError."""
    if not isinstance(alias, str) or not alias or not _ALIAS.fullmatch(alias):
        raise InvalidParameterError(
            f"Invalid alias {alias!r}: use letters, digits, '_' and '-' only (e.g. 'champion')."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameterError(f"Alias {alias[:20]!r}... is longer than {MAX_ALIAS_LENGTH} characters.")
    if _RESERVED_ALIAS.fullmatch(alias):
        raise InvalidParameterError(
            f"Alias {alias!r} is reserved ('latest' and 'v<number>' already mean a version in "
            "models:/ URIs); choose another, such as 'champion'."
        )
    return alias


def _check_tag(key: Any, value: Any) -> tuple[str, str]:
    from .validation import check_key

    return check_key(key, "tag key"), "" if value is None else str(value)


def _check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise InvalidParameterError(f"tags must be a dict of key -> value, not {tags!r:.60}.")
    return dict(_check_tag(k, v) for k, v in tags.items())


def _check_tag_key(key: Any) -> str:
    from .validation import check_key

    return check_key(key, "tag key")


def _check_description(description: Any) -> str | None:
    if description is None or isinstance(description, str):
        return description
    raise InvalidParameterError(f"description must be a string or None, not {description!r:.60}.")


def _check_alias_lookup(alias: Any) -> str:
    if isinstance(alias, str) and alias:
        return alias
    raise InvalidParameterError(f"An alias must be a non-empty string such as 'champion', not {alias!r}.")


# kernelflow.client imports this module (Client mixes in RegistryClient), so
# its helpers (PagedList, _check_max_results, _user) are imported where used.
def _paged(items: list, token: str | None) -> Any:
    from .client import PagedList

    return PagedList(items, token)


class RegistryClient:
    """Registry methods of :class:`kernelflow.Client`, named as MLflow's ``MlflowClient``."""

    _store: Any

    # -- registered models ---------------------------------------------------
    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a registered model.

        Raises:
            ResourceExistsError: the name is taken.
        """
        return self._store.create_registered_model(
            check_model_name(name), _check_tags(tags), _check_description(description)
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its tags, aliases and latest versions."""
        return self._store.get_registered_model(check_model_name(name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Any:
        """Search registered models, e.g. ``"name LIKE 'iris%' AND tags.team = 'ml'"``.

        Returns:
            A list with a ``token`` attribute for the next page (None on the last).
        """
        from .client import _check_max_results

        items, token = self._store.search_registered_models(
            filter_string, _check_max_results(max_results), order_by, page_token
        )
        return _paged(items, token)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Set a registered model's description."""
        return self._store.update_registered_model(
            check_model_name(name), _check_description(description)
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions, tags, aliases and history follow."""
        return self._store.rename_registered_model(check_model_name(name), check_model_name(new_name))

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with its versions, tags, aliases and history.

        This never deletes the run's artifacts: the model files stay in the
        runs they were logged to, so ``runs:/`` URIs still load and the model
        can be registered again. To free their disk space, delete the runs
        (``delete_run``) or their artifacts yourself. A notice saying so is
        printed to stderr (as MLflow prints its registry messages).

        Raises:
            ResourceNotFoundError: no registered model has that name.
        """
        model = self.get_registered_model(name)
        self._store.delete_registered_model(model.name)
        _notice(
            f"Deleted registered model {model.name!r} from the registry; the model files in "
            "its runs' artifacts were kept (runs:/ URIs still load)."
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on a registered model."""
        self._store.set_registered_model_tag(check_model_name(name), *_check_tag(key, value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a tag from a registered model."""
        self._store.delete_registered_model_tag(check_model_name(name), _check_tag_key(key))

    # -- model versions ------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int | None = None,
    ) -> ModelVersion:
        """Add a version to an existing registered model.

        Args:
            name: The registered model.
            source: Where the model files are (``runs:/...`` or a path).
            run_id: The run that produced the model.
            tags: Version tags.
            run_link: A link to the run, shown in the UI.
            description: Free text.
            await_creation_for: Accepted for MLflow compatibility; versions
                are READY at once.
        """
        from .client import _user

        if not isinstance(source, str) or not source:
            raise InvalidParameterError("create_model_version needs source: the model's URI or path.")
        return self._store.create_model_version(
            check_model_name(name), source, run_id, _check_tags(tags), run_link,
            _check_description(description),
            _user(), _storage_location(source, self),
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version of a registered model."""
        return self._store.get_model_version(check_model_name(name), check_version(version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Any:
        """Search versions, e.g. ``"name = 'iris' AND version_number > 2"`` or ``"run_id = '...'"``.

        Returns:
            A list with a ``token`` attribute for the next page (None on the last).
        """
        from .client import _check_max_results

        items, token = self._store.search_model_versions(
            filter_string, _check_max_results(max_results), order_by, page_token
        )
        return _paged(items, token)

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        """Set a version's description."""
        return self._store.update_model_version(
            check_model_name(name), check_version(version), _check_description(description)
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version from the registry; its number is never reused.

        This never deletes the run's artifacts: the model files stay in the
        run, so its ``runs:/`` URI still loads. To free their disk space,
        delete the run (``delete_run``) or its artifacts yourself. A notice
        saying so is printed to stderr.

        Raises:
            ResourceNotFoundError: the model or the version does not exist.
        """
        number = check_version(version)
        self._store.delete_model_version(check_model_name(name), number)
        _notice(
            f"Deleted version {number} of {name!r} from the registry; its model files were "
            "kept in the run's artifacts."
        )

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set a tag on a version."""
        self._store.set_model_version_tag(
            check_model_name(name), check_version(version), *_check_tag(key, value)
        )

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Delete a tag from a version."""
        self._store.delete_model_version_tag(
            check_model_name(name), check_version(version), _check_tag_key(key)
        )

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when None)."""
        if stages is not None and not isinstance(stages, (list, tuple)):
            raise InvalidParameterError(
                f"stages must be a list such as ['Production'], not {stages!r}."
            )
        wanted = [check_stage(s) for s in stages] if stages else None
        self.get_registered_model(name)
        return self._store.get_latest_versions(name, wanted)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's model files are (a local path when known)."""
        mv = self.get_model_version(name, version)
        return mv.storage_location or mv.source or ""

    # -- stages and aliases --------------------------------------------------
    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to None / Staging / Production / Archived.

        Args:
            archive_existing_versions: Move the other versions in ``stage`` to
                Archived; only with Staging and Production.

        Raises:
            InvalidParameterError: an unknown stage, or ``archive_existing_versions``
                with None or Archived (as MLflow).
        """
        if not isinstance(archive_existing_versions, bool):
            raise InvalidParameterError(
                "archive_existing_versions must be True or False, "
                f"not {archive_existing_versions!r}."
            )
        return self._store.transition_model_version_stage(
            check_model_name(name), check_version(version), check_stage(stage),
            archive_existing_versions,
        )

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point an alias (``champion``) at a version; ``models:/name@champion`` then loads it."""
        self._store.set_registered_model_alias(
            check_model_name(name), check_alias(alias), check_version(version)
        )

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias from a registered model."""
        self._store.delete_registered_model_alias(check_model_name(name), _check_alias_lookup(alias))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at."""
        return self._store.get_model_version_by_alias(check_model_name(name), _check_alias_lookup(alias))

    def get_model_label_history(
        self, name: str, kind: str | None = None, label: str | None = None
    ) -> list[ModelLabelChange]:
        """Which version held each alias or stage, from when to when (oldest first).

        Args:
            name: The registered model.
            kind: ``alias`` or ``stage`` (both when None).
            label: One alias or stage name, e.g. ``champion`` or ``Production``.
        """
        if kind not in (None, "alias", "stage"):
            raise InvalidParameterError(f"kind must be 'alias', 'stage' or None, not {kind!r}.")
        if kind == "stage" and label is not None:
            label = check_stage(label)
        return self._store.get_model_label_history(check_model_name(name), kind, label)

    def get_alias_history(self, name: str, alias: str | None = None) -> list[ModelLabelChange]:
        """Which version held ``alias`` (or every alias), from when to when."""
        return self.get_model_label_history(name, "alias", alias)

    def get_stage_history(self, name: str, stage: str | None = None) -> list[ModelLabelChange]:
        """Which version was in ``stage`` (or every stage), from when to when."""
        return self.get_model_label_history(name, "stage", stage)

    # -- registering logged models ------------------------------------------
    def register_model(
        self, model_uri: str, name: str, tags: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register the model at ``model_uri`` as the next version of ``name``.

        The registered model is created if needed. ``model_uri`` must point at
        a model directory (``runs:/<run_id>/model``, ``models:/...`` or a path).
        """
        from .client import _user
        from .models.metadata import ModelMetadata
        from .models.uri import parse_model_uri, resolve_local_path, resolve_model_version

        name = check_model_name(name)
        parsed = parse_model_uri(model_uri)
        local = resolve_local_path(model_uri, self)
        meta = ModelMetadata.load(local)  # refuses a directory that is not a model
        source, run_id = model_uri, parsed.run_id or meta.run_id
        if parsed.kind == "models":
            src = resolve_model_version(parsed, self)
            source, run_id = src.source or local, src.run_id or run_id
        elif parsed.kind == "path":
            source = local
        self._store.get_or_create_registered_model(name)
        mv = self._store.create_model_version(
            name, source, run_id, _check_tags(tags), None, _check_description(description),
            _user(), local,
        )
        logger.info("Registered model %r version %s from %s", name, mv.version, model_uri)
        return mv

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the model behind ``src_model_uri`` (e.g. ``models:/a@champion``) under ``dst_name``."""
        return self.register_model(src_model_uri, dst_name)


def _notice(message: str) -> None:
    # Printed, not logged: INFO logs are hidden by default, and a user deleting
    # a model must learn that its files (and their disk space) remain.
    print(f"kernelflow: {message}", file=sys.stderr)


def _storage_location(source: str, client: Any) -> str | None:
    from .models.uri import resolve_local_path

    try:
        return resolve_local_path(source, client)
    except Exception:  # a source not reachable from here is still recorded as given
        return None


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = None,
    *,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
) -> ModelVersion:
    """Register a logged model as the next version of ``name`` (created if needed).

    Args:
        model_uri: ``runs:/<run_id>/<path>``, ``models:/...`` or a local model directory.
        name: The registered model's name.
        await_registration_for: Accepted for MLflow compatibility; versions
            are READY at once.
        tags: Tags for the new version.
        description: The new version's description.

    Returns:
        The new ModelVersion (versions count 1, 2, 3...).

    Raises:
        ResourceNotFoundError: ``model_uri`` has no model.
    """
    from .client import default_client

    return default_client().register_model(model_uri, name, tags, description)
