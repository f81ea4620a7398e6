"""``EvaluationResult``: metrics and artifacts of one evaluation, shown as HTML in a notebook."""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass, field


@dataclass
class EvaluationArtifact:
    """A file the evaluation logged: ``uri`` (artifact-relative) and ``local_path``."""

    uri: str
    local_path: str

    def content(self) -> bytes:
        """The file's bytes."""
        with open(self.local_path, "rb") as f:
            return f.read()


@dataclass
class EvaluationResult:
    """What ``kf.evaluate`` returns (MLflow's ``EvaluationResult`` shape).

    Attributes:
        metrics: metric name -> value, as logged to the run.
        artifacts: artifact name -> :class:`EvaluationArtifact` (plots, per-class table).
        baseline_model_metrics: the baseline's metrics, or None without a baseline.
        run_id: the run the evaluation logged into.
    """

    metrics: dict[str, float]
    artifacts: dict[str, EvaluationArtifact] = field(default_factory=dict)
    baseline_model_metrics: dict[str, float] | None = None
    run_id: str | None = None

    def _repr_html_(self) -> str:
        rows = []
        for name in sorted(self.metrics):
            value = self.metrics[name]
            base = ""
            if self.baseline_model_metrics and name in self.baseline_model_metrics:
                base = f"{self.baseline_model_metrics[name]:.6g}"
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{value:.6g}</td><td>{base}</td></tr>")
        head = "<th>metric</th><th>value</th>"
        head += "<th>baseline</th>" if self.baseline_model_metrics else "<th></th>"
        table = (f"<table class='kf-eval-metrics'><thead><tr>{head}</tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>")
        images = []
        for name, art in self.artifacts.items():
            if art.local_path.endswith(".png") and os.path.exists(art.local_path):
                data = base64.b64encode(art.content()).decode()
                images.append(f"<figure style='display:inline-block;margin:4px'>"
                              f"<img src='data:image/png;base64,{data}' width='360' "
                              f"alt='{html.escape(name)}'/><figcaption>{html.escape(name)}"
                              "</figcaption></figure>")
        run = f"<div>run <code>{html.escape(self.run_id)}</code></div>" if self.run_id else ""
        return f"<div class='kf-eval'>{run}{table}<div>{''.join(images)}</div></div>"

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}={v:.4g}" for k, v in sorted(self.metrics.items())[:6])
        return f"EvaluationResult(run_id={self.run_id!r}, {keys}, artifacts={list(self.artifacts)})"
