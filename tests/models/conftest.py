"""Fixtures for model-format tests: small real data."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def iris():
    """Iris as (X DataFrame, y Series)."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    return sklearn_datasets.load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def iris_model(iris):
    """A fitted logistic regression on iris."""
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    return LogisticRegression(max_iter=500).fit(X, y)
