# On a fresh machine:  make run  (the app)   make test  (the quick tests and linters)
#                      make check  (every test: make test, the slow tier, the soak)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test slow check soak lint bench bundle clean screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/ctxlab

# pytest workers: one more than the cores (a test waiting on a panel's worker thread leaves its
# core idle), handing out tests one by one as workers free up (a few tests take seconds)
WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || sysctl -n hw.ncpu) + 1 )))

# every test but the slow and soak tiers (pytest markers, see pyproject.toml), then the linters
test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(WORKERS) --dist worksteal -m "not soak and not slow" --durations=15
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy core widgets app

# tests whose point is scale or a real outside process (big files, timed CLI progress, API deadlines)
slow: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto -m slow --durations=10

soak: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto -m soak tests/soak

# every test, one tier after the other: what CI runs
check: $(VENV)/.installed
	$(MAKE) test
	$(MAKE) slow
	$(MAKE) soak

bench: $(VENV)/.installed
	$(VENV)/bin/ctxlab bench --json bench.json

# every panel in a real window under Xvfb (offscreen when Xvfb is missing) -> docs/screenshots/
SHOT_DISPLAY ?= :97
SHOT_SIZE    ?= 1600x900
screenshots: $(VENV)/.installed
	@if command -v Xvfb >/dev/null; then \
	    Xvfb $(SHOT_DISPLAY) -screen 0 $(SHOT_SIZE)x24 >/dev/null 2>&1 & pid=$$!; sleep 1; \
	    DISPLAY=$(SHOT_DISPLAY) QT_QPA_PLATFORM=xcb $(PY) docs/screenshots/make_gallery.py $(SHOT_SIZE); \
	    status=$$?; kill $$pid; exit $$status; \
	else \
	    QT_QPA_PLATFORM=offscreen $(PY) docs/screenshots/make_gallery.py $(SHOT_SIZE); \
	fi

bundle: $(VENV)/.installed
	bash packaging/build.sh

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
