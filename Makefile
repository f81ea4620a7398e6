PYTHON ?= python3
export LITELLM_LOCAL_MODEL_COST_MAP := True
export KERAS_BACKEND := torch

.PHONY: demo test test-fast bench lint install-demo install-test

demo: install-demo
	$(PYTHON) -m kernelflow demo

# A failing test is run once more before it counts: browser and multi-process tests on two
# shared cores can miss a deadline under a load spike; a real breakage fails both times.
test: install-test
	$(PYTHON) -m pytest -q -p no:cacheprovider --reruns 1
	PYTHON=$(PYTHON) scripts/test-ipykernel6.sh

test-fast:
	$(PYTHON) -m pytest -q -m "not browser and not notebook and not slow and not mlflow"

bench:
	$(PYTHON) bench/tracking.py

lint:
	$(PYTHON) -m ruff check kernel_magics dashboard serving gateway tests bench
	$(PYTHON) -m mypy

install-demo:
	PYTHON=$(PYTHON) scripts/install.sh demo

install-test:
	PYTHON=$(PYTHON) scripts/install.sh test
