"""What every endpoint needs: the client, its store and the artifact URI mapping."""

from __future__ import annotations

from dataclasses import dataclass

from .uris import ArtifactUris


@dataclass
class Api:
    """The REST API's view of one tracking store.

    Args:
        client: a ``kernelflow.Client`` on a local SQLite store.
        uris: the mapping between local artifact paths and ``mlflow-artifacts:/`` URIs.
    """

    client: object
    uris: ArtifactUris

    @classmethod
    def for_client(cls, client, serve_artifacts: bool = True) -> Api:
        """Build the API state for a client whose store is a local SQLite file.

        Args:
            client: the dashboard's client.
            serve_artifacts: MLflow's ``--serve-artifacts`` (URIs under the root become
                ``mlflow-artifacts:/``; the artifact endpoints answer) or not (real paths;
                the artifact endpoints answer 503, as MLflow's).
        """
        root = client.artifact_root
        if root is None:
            from kernelflow.errors import InvalidParameterError

            raise InvalidParameterError(
                "The dashboard server needs a local SQLite store (sqlite:///file.db), not "
                f"{client.tracking_uri!r}: it cannot serve another server's data."
            )
        return cls(client, ArtifactUris(root, serve_artifacts))
