#!/usr/bin/env bash
# The notebook tests that run real kernels, again on ipykernel 6 (the main run uses 7):
# a venv that sees the installed packages but has ipykernel<7 of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${IPYKERNEL6_VENV:-.venv-ipykernel6}
[ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "ipykernel>=6,<7"
"$VENV/bin/python" -c "import ipykernel; assert ipykernel.version_info[0] == 6, ipykernel.__version__"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --reruns 1 \
  tests/notebook/test_kernel.py tests/notebook/test_kernel_runs.py tests/notebook/test_binder.py
