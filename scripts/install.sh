#!/usr/bin/env bash
# Install kernelflow for a purpose: `demo` (core + scikit-learn) or `test` (everything the
# tests need: the dev extras, a CPU build of torch, Debian's chromium for browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
what=${1:-demo}
# The default is a project venv, created on first use (PEP 668 Pythons refuse a global pip).
if [ "$PY" = ".venv/bin/python" ] && [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -q python3-venv >/dev/null 2>&1 \
      || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q python3-venv >/dev/null; }
    rm -rf .venv && python3 -m venv .venv
  fi
fi
pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

case "$what" in
  demo)
    pip_install -e ".[notebook,dashboard]" scikit-learn
    ;;
  test)
    # Debian packages: chromium (browser tests), strace (the durability test watches fsyncs).
    if ! command -v chromium >/dev/null 2>&1 || ! command -v strace >/dev/null 2>&1; then
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      $SUDO apt-get install -y -q chromium strace >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium strace >/dev/null; }
    fi
    # torch first and pinned: this exact CPU build lies on the local disk; a bare
    # `torch` would pull several GB of CUDA wheels.
    pip_install "torch==2.13.0"
    pip_install -e ".[dev]"
    # The JupyterLab extension's TypeScript tests (jest) and its build check need its
    # node_modules; the built labextension itself is committed, so users need no Node.
    if ! command -v npm >/dev/null 2>&1; then
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      $SUDO apt-get install -y -q nodejs npm >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q nodejs npm >/dev/null; }
    fi
    (cd extension && npm ci --no-audit --no-fund --loglevel=error)
    ;;
  *)
    echo "usage: scripts/install.sh demo|test" >&2; exit 2
    ;;
esac
