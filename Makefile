# transfer-cli developer commands. `make demo` and `make test` are the two entry points.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_DIR ?= ../shared/data

.PHONY: install demo test bench clean

install: $(STAMP)

# torch is installed first and pinned: other specs pull multi-GB CUDA builds here.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	PATH="$(abspath $(VENV))/bin:$$PATH" bash scripts/demo.sh

test: install
	$(PY) -m pytest -q

bench: install
	DATA_DIR=$(DATA_DIR) PYTHON=$(abspath $(PY)) bash benchmarks/run.sh

clean:
	rm -rf $(VENV) .venv-bench demo_output build *.egg-info .pytest_cache
