# Everything installs into a project virtual environment (.venv, reused when present), so a
# distribution's externally managed Python (PEP 668) is never touched. PYTHON=... overrides.
PYTHON ?= .venv/bin/python
export LITELLM_LOCAL_MODEL_COST_MAP := True
export KERAS_BACKEND := torch

.PHONY: demo test test-fast bench lint install-demo install-test

demo: install-demo
	$(PYTHON) -m kernelflow demo

# Only tests that drive a browser, a kernel or Ray are run once more when they fail (see
# tests/conftest.py); the run ends with a list of what was rerun. Everything else counts once.
test: install-test
	$(PYTHON) -m pytest -q -p no:cacheprovider
	PYTHON=$(PYTHON) scripts/test-ipykernel6.sh

test-fast:
	$(PYTHON) -m pytest -q -m "not browser and not notebook and not slow and not mlflow"

bench:
	$(PYTHON) bench/tracking.py

lint:
	$(PYTHON) -m ruff check kernel_magics dashboard serving gateway extension/kernelflow_lab tests bench
	$(PYTHON) -m mypy

install-demo:
	PYTHON=$(PYTHON) scripts/install.sh demo

install-test:
	PYTHON=$(PYTHON) scripts/install.sh test
