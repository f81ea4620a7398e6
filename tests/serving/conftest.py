"""Fixtures for the serving tests: a registry with real models, one Ray per module.

Ray Serve takes seconds to start an application on two cores, so each test module
shares one Ray instance and as few applications as it can.
"""

from __future__ import annotations

import pytest
from serving_helpers import make_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> str:
    """The tracking URI of a registry made by :func:`make_registry`, shared by a module."""
    return make_registry(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray per module, shut down afterwards (with Serve)."""
    import ray

    from kernelflow_serving.api import init_ray

    init_ray(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    from ray import serve

    import kernelflow_serving

    kernelflow_serving.stop_all()
    try:
        serve.shutdown()
    finally:
        ray.shutdown()
