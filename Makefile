# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup system run test test-fast smoke screenshots bench soak heap-check clean lock package image deploy-check deploy-try

# uv installs the locked versions (requirements.lock, from `make lock`) in seconds; pip does the
# same, slower, where uv cannot be had. The lock is universal: one file for every Python we support.
# Compiled at install (pip does it by default): sandboxed runs of generated tests use this interpreter
# with PYTHONDONTWRITEBYTECODE, and would otherwise compile pytest again on every run.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.5" >/dev/null 2>&1 && test -x $(VENV)/bin/uv; then \
		echo "installing the locked dependencies with uv"; \
		$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock && \
		$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . ; \
	else \
		echo "uv is not available; installing with pip (slower)"; \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock && \
		$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . ; \
	fi
	@touch $(STAMP)

# After changing dependencies in pyproject.toml: pin them again (commit the result).
lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock

# Debian packages the app and its tests need beyond Python:
#  Qt's xcb platform plugin (a real window): libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 ...
#  chromium: browser tests, driven by Playwright (never a downloaded browser)
#  bubblewrap: the sandbox for code from a repository; xvfb, xdotool: the real-window test (typed keys)
#  prometheus: promtool, to check the alert rules
#  desktop-file-utils, binutils: make package validates the .desktop entry and reads the bundle's glibc floor
SYSTEM_PACKAGES := chromium bubblewrap xvfb xdotool prometheus desktop-file-utils binutils \
	libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libgl1 libegl1 libfontconfig1 libdbus-1-3

# Installs what is missing as root; otherwise names it and goes on (the tests that
# need a missing package say so when they skip).
system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
			|| echo "could not install:$$missing (tests that need them will say so)"; \
	else \
		echo "missing system packages:$$missing"; \
		echo "  install them with: sudo apt-get install$$missing"; \
	fi

setup: $(STAMP) system

run: setup
	$(VENV)/bin/aiwebtest

# Two pytest workers (pytest-xdist) on the 2 cores the suite must fit; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: setup
	QT_QPA_PLATFORM=offscreen .ci/pytest-run $(PY) -n $(TEST_WORKERS)

test-fast: setup
	QT_QPA_PLATFORM=offscreen .ci/pytest-run $(PY) -m "not slow"

smoke: setup
	AIWEBTEST_DATA_DIR=$$(mktemp -d) $(VENV)/bin/aiwebtest --smoke

screenshots: setup
	AIWEBTEST_DATA_DIR=$$(mktemp -d) $(VENV)/bin/aiwebtest --screenshots docs/screenshots

bench: setup
	$(PY) bench/startup.py
	$(PY) bench/engine.py
	$(PY) bench/bus.py
	$(PY) bench/ui_lag.py

# 200 generations in one process, tracemalloc's growth after the first 20 under its bound (issue 28).
heap-check: setup
	AIWEBTEST_SOAK_TESTS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:cacheprovider tests/bench/test_generation_memory.py

# Issue 28's soak: the real window (under Xvfb when no display is set), 2 generations in flight, a store
# killed every 30 minutes, HTTP traffic with /metrics. `make soak MINUTES=480` is the 8-hour run.
soak: setup
	@if [ -n "$$DISPLAY" ]; then \
		$(PY) bench/soak.py --window --fault-every-min 30 --minutes $${MINUTES:-30}; \
	else \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) bench/soak.py --window --fault-every-min 30 --minutes $${MINUTES:-30}; \
	fi

# The PyInstaller bundle in dist/aiwebtest and a .deb beside it (resources/packaging/build_package.py).
package: setup
	$(PY) resources/packaging/build_package.py --out dist --work build/pyinstaller

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# The agents' and the API's container image, built here from Debian's packages (deploy/build-image.sh).
image: setup
	PY=$(PY) deploy/build-image.sh

# Every manifest rendered from the production overlay, validated (core kinds strictly, KEDA's against its schema).
deploy-check: setup
	PY=$(PY) deploy/check.sh

# The rendered manifests run with podman kube play: a generation through the API pod, an evolution pod killed.
deploy-try: image
	PY=$(PY) $(PY) deploy/try.py

