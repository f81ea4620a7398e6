"""Evaluation loads only when used: the Client and ``%load_ext`` import none of it."""

from __future__ import annotations

import json
import subprocess
import sys

# (IPython's test shell itself may load matplotlib, so it is checked without the magics)
HEAVY = ("kernelflow.evaluation", "kernelflow.genai.evaluation", "kernelflow.genai.judges",
         "kernelflow.genai.datasets", "sklearn", "litellm")


def _modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_client_and_the_magics_do_not_load_evaluation():
    loaded = _modules(
        "import sys, json, kernelflow\n"
        "kernelflow.log_metric; kernelflow.Client\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "start_ipython().run_line_magic('load_ext', 'kernelflow')\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    assert "kernelflow.magics.evaluate" in loaded
    assert not {m for m in loaded if m.startswith(HEAVY)}


def test_using_genai_names_loads_only_what_they_need():
    loaded = _modules("import sys, json, kernelflow as kf\nkf.genai.scorer\n"
                      "print(json.dumps(sorted(sys.modules)))\n")
    assert "kernelflow.genai.scorers" in loaded
    assert not {m for m in loaded if m.startswith(("litellm", "matplotlib", "sklearn"))}
