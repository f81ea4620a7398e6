#!/usr/bin/env bash
# The notebook tests that run real kernels, again on ipykernel 6 (the main run uses 7):
# a venv that sees the installed packages but has ipykernel<7 of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
VENV=${IPYKERNEL6_VENV:-.venv-ipykernel6}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  # See $PY's packages (kernelflow's editable install included) behind this venv's own.
  parent=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  own=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  echo "import site; site.addsitedir('$parent')" > "$own/_kernelflow_parent.pth"
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "ipykernel>=6,<7"
"$VENV/bin/python" -c "import ipykernel; assert ipykernel.version_info[0] == 6, ipykernel.__version__"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/notebook/test_kernel.py tests/notebook/test_kernel_runs.py tests/notebook/test_binder.py
