"""Evaluation plots as PNG files, drawn with matplotlib's object API (no pyplot state).

Curves are thinned to at most ``MAX_POINTS`` points and residual scatters sampled,
so a plot of 100,000 rows draws as fast as one of 1,000.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 400
MAX_SCATTER = 4000


def _figure(width: float = 5.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig, path: str) -> str:
    # fixed margins: tight_layout would measure every label and cost a third of the time
    fig.subplots_adjust(left=0.14, right=0.96, bottom=0.13, top=0.92)
    fig.savefig(path, format="png")
    return path


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.size <= MAX_POINTS:
        return x, y
    idx = np.unique(np.r_[np.linspace(0, x.size - 1, MAX_POINTS).astype(int), x.size - 1])
    return x[idx], y[idx]


def confusion_matrix_plot(cm: np.ndarray, labels, path: str) -> str:
    """Heat map of the confusion matrix, rows true class, columns predicted, with counts."""
    k = len(labels)
    size = min(3.5 + 0.35 * k, 10.0)
    fig, ax = _figure(size, size * 0.85)
    ax.imshow(cm, cmap="Blues")
    names = [str(x) for x in labels]
    ax.set_xticks(range(k), names, rotation=45 if k > 6 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Confusion matrix")
    if k <= 20:
        top = cm.max() or 1
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > top / 2 else "black")
    return _save(fig, path)


def curve_plot(curves: list, kind: str, path: str) -> str:
    """ROC (``kind="roc"``) or precision-recall (``"pr"``) curves, one line per class."""
    fig, ax = _figure()
    area = "AUC" if kind == "roc" else "AP"
    for label, curve in curves:
        x, y = _thin(curve.x, curve.y)
        name = f"{area}={curve.area:.3f}" if len(curves) == 1 else \
            f"label={label}, {area}={curve.area:.3f}"
        ax.plot(x, y, drawstyle="steps-post" if kind == "pr" else "default", label=name)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], color="gray", alpha=0.3, linestyle="dashed")
        ax.set(xlabel="False Positive Rate", ylabel="True Positive Rate", title="ROC curve")
    else:
        ax.plot([0, 1], [1, 0], color="gray", alpha=0.3, linestyle="dashed")
        ax.set(xlabel="Recall", ylabel="Precision", title="Precision recall curve")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def residuals_plot(y_true: np.ndarray, y_pred: np.ndarray, path: str) -> str:
    """Residuals (true - predicted) against predictions, sampled to a few thousand points."""
    fig, ax = _figure()
    y, yhat = np.asarray(y_true, dtype=float).ravel(), np.asarray(y_pred, dtype=float).ravel()
    if y.size > MAX_SCATTER:
        idx = np.random.default_rng(0).choice(y.size, MAX_SCATTER, replace=False)
        y, yhat = y[idx], yhat[idx]
    ax.scatter(yhat, y - yhat, s=4, alpha=0.4)
    ax.axhline(0, color="gray", alpha=0.5, linestyle="dashed")
    ax.set(xlabel="Predicted value", ylabel="Residual (true - predicted)", title="Residuals")
    return _save(fig, path)
