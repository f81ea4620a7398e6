"""The demo behind ``make demo`` / ``kernelflow demo``: a small, real training sweep.

It trains scikit-learn's SGDClassifier on the bundled digits data set (no
download) for a few learning rates, logging params, a metric per epoch, a
confusion matrix table and the trained model, then registers the best one.
"""

from __future__ import annotations

import time

EXPERIMENT = "kernelflow-demo"


def _train(lr: float, alpha: float, epochs: int, log_epoch):
    """Train an SGD classifier, calling ``log_epoch(epoch, train_acc, val_acc)``.

    Returns the model, its final validation accuracy and the validation data.
    """
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    model = SGDClassifier(learning_rate="constant", eta0=lr, alpha=alpha, random_state=0)
    classes = np.unique(y)
    val_acc = 0.0
    for epoch in range(epochs):
        model.partial_fit(x_train, y_train, classes=classes)
        val_acc = model.score(x_val, y_val)
        log_epoch(epoch, model.score(x_train, y_train), val_acc)
    return model, val_acc, x_val, y_val


def main() -> None:
    """Log the sweep and print where the runs are and how to look at them."""
    import kernelflow as kf

    started = time.perf_counter()
    exp = kf.set_experiment(EXPERIMENT)
    best = (-1.0, None, None)
    for lr, alpha in [(0.001, 1e-4), (0.01, 1e-4), (0.1, 1e-3), (0.5, 1e-2)]:
        with kf.start_run(run_name=f"sgd-lr{lr}") as run:
            kf.log_params({"model": "SGDClassifier", "lr": lr, "alpha": alpha, "epochs": 20})
            kf.set_tag("dataset", "sklearn digits")
            model, val_acc, x_val, y_val = _train(
                lr, alpha, 20,
                lambda epoch, train, val: kf.log_metrics({"train_acc": train, "val_acc": val}, step=epoch),
            )
            from sklearn.metrics import confusion_matrix

            matrix = confusion_matrix(y_val, model.predict(x_val))
            kf.log_table({"true": list(range(10)), **{str(i): matrix[:, i].tolist() for i in range(10)}},
                         "confusion_matrix.json")
            _log_model(kf, model, x_val[:5])
            print(f"  run {run.info.run_name:<14} val_acc={val_acc:.3f}  id={run.info.run_id}")
            if val_acc > best[0]:
                best = (val_acc, run.info.run_id, run.info.run_name)
    _register_best(kf, best)
    _print_summary(kf, exp, best, time.perf_counter() - started)


def _log_model(kf, model, example) -> None:
    try:
        kf.log_model(model, "model", input_example=example)
    except (ImportError, AttributeError):
        pass  # the model format is optional for the demo


def _register_best(kf, best) -> None:
    try:
        version = kf.register_model(f"runs:/{best[1]}/model", "digits-classifier")
        kf.Client().set_registered_model_alias("digits-classifier", "champion", version.version)
        print(f"  registered {best[2]} as digits-classifier v{version.version} @champion")
    except (ImportError, AttributeError):
        pass


def _print_summary(kf, exp, best, seconds: float) -> None:
    from .config import resolve

    uri = resolve(kf.get_tracking_uri()).uri
    frame = kf.search_runs(experiment_names=[EXPERIMENT], order_by=["metrics.val_acc DESC"])
    print(f"\nLogged {len(frame)} runs in experiment {exp.name!r} ({seconds:.1f}s).")
    print(f"Best: {best[2]} (val_acc={best[0]:.3f}).")
    print(f"Tracking store: {uri}")
    print(f"Artifacts:      {exp.artifact_location}")
    kf_cmd, py_cmd = _commands()
    print("\nLook at them:")
    print(f"  {kf_cmd} runs --experiment kernelflow-demo --order 'metrics.val_acc DESC'")
    print(f"  {kf_cmd} ui            # dashboard + MLflow-compatible API on http://127.0.0.1:5000")
    print(f"  {py_cmd} -c \"import kernelflow as kf; "
          "print(kf.search_runs(experiment_names=['kernelflow-demo']))\"")
    print("  in a notebook: %load_ext kernelflow, then %kf runs")


def _commands() -> tuple[str, str]:
    """How to call ``kernelflow`` and this Python from the user's shell: the bare names when
    they are the ones on the PATH, else the paths into this environment (``make demo``'s
    ``.venv``, which the user's shell has not activated)."""
    import os
    import shutil
    import sys

    bindir = os.path.dirname(sys.executable)
    out = []
    for name in ("kernelflow", "python"):
        mine = os.path.join(bindir, name)
        found = shutil.which(name)
        same = found is not None and os.path.realpath(found) == os.path.realpath(mine)
        out.append(name if same or not os.path.exists(mine) else os.path.relpath(mine))
    return out[0], out[1]
