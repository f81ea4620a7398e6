"""kernelflow: the ML lifecycle, native to Jupyter.

Track experiments, register models, serve them and call LLMs from a notebook;
everything lands in one SQLite file. ``import kernelflow`` is light: names are
loaded on first use, and heavy libraries only when a feature needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # where data goes
    "set_tracking_uri": "config",
    "get_tracking_uri": "config",
    # experiments
    "set_experiment": "fluent",
    "create_experiment": "fluent",
    "get_experiment": "fluent",
    "get_experiment_by_name": "fluent",
    "search_experiments": "fluent",
    "delete_experiment": "fluent",
    "restore_experiment": "fluent",
    # runs
    "start_run": "fluent",
    "active_run": "fluent",
    "last_active_run": "fluent",
    "end_run": "fluent",
    "get_run": "fluent",
    "delete_run": "fluent",
    "restore_run": "fluent",
    "search_runs": "fluent",
    "get_metric_history": "fluent",
    # logging
    "log_param": "fluent",
    "log_params": "fluent",
    "log_metric": "fluent",
    "log_metrics": "fluent",
    "set_tag": "fluent",
    "set_tags": "fluent",
    "delete_tag": "fluent",
    "log_artifact": "fluent",
    "log_artifacts": "fluent",
    "log_text": "fluent",
    "log_dict": "fluent",
    "log_figure": "fluent",
    "log_image": "fluent",
    "log_table": "fluent",
    "get_artifact_uri": "fluent",
    "flush": "fluent",
    "set_sync_logging": "fluent",
    # objects
    "Client": "client",
    "ActiveRun": "fluent",
    "Experiment": "entities",
    "Run": "entities",
    "RunInfo": "entities",
    "RunData": "entities",
    "Metric": "entities",
    "Param": "entities",
    "RunTag": "entities",
    "MetricHistory": "entities",
    "RegisteredModel": "entities",
    "Dataset": "store.datasets",
    "DatasetInput": "store.datasets",
    "LoggedModel": "store.logged_models",
    "LoggedModelMetric": "store.logged_models",
    "ModelVersion": "entities",
    "Deployment": "store.deployments",
    # errors
    "KernelflowError": "errors",
    "InvalidParameterError": "errors",
    "FilterSyntaxError": "errors",
    "ResourceNotFoundError": "errors",
    "ResourceExistsError": "errors",
    "InvalidStateError": "errors",
    "StoreError": "errors",
    "LoggingError": "errors",
    # models and registry
    "log_model": "models",
    "save_model": "models",
    "load_model": "models",
    "ModelInfo": "models",
    "PythonModel": "models",
    "register_model": "registry",
    "autolog": "autolog",
    # tracing
    "trace": "tracing",
    "start_span": "tracing",
    "get_current_active_span": "tracing",
    "update_current_trace": "tracing",
    "get_last_active_trace_id": "tracing",
    "search_traces": "tracing",
    "get_trace": "tracing",
    # notebooks
    "live": "widgets.live_chart",
    "run_notebook": "notebooks",
    # evaluation
    "evaluate": "evaluation",
    "log_feedback": "tracing",
    "log_expectation": "tracing",
}
_SUBMODULES = {"genai", "sklearn", "pytorch", "keras", "pyfunc", "models", "registry", "autolog", "tracing",
               "litellm", "openai", "codec", "paging", "plugins"}

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__", "load_ipython_extension",
                  "unload_ipython_extension"])


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, _SUBMODULES, __all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext kernelflow``: register the ``%kf`` magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext kernelflow``."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)


if TYPE_CHECKING:  # pragma: no cover
    from .client import Client  # noqa: F401
    from .fluent import *  # noqa: F403
