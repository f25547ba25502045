# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast smoke screenshots bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/aiwebtest

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"

smoke: setup
	AIWEBTEST_DATA_DIR=$$(mktemp -d) $(VENV)/bin/aiwebtest --smoke

screenshots: setup
	AIWEBTEST_DATA_DIR=$$(mktemp -d) $(VENV)/bin/aiwebtest --screenshots docs/screenshots

bench: setup
	$(PY) bench/startup.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
