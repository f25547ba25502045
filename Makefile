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

CHROMIUM := /usr/bin/chromium

# Browser tests use Debian's Chromium; Playwright never downloads a browser.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Browser tests need Chromium: sudo apt-get install chromium (they are skipped until then)"; \
	fi

setup: $(STAMP) $(CHROMIUM)

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
	$(PY) bench/engine.py
	$(PY) bench/bus.py
	$(PY) bench/ui_lag.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
