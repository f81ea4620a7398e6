"""kernelflow dashboard: Panel + HoloViews UI and the MLflow-compatible REST API."""
