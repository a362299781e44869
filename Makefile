# Two commands on a fresh machine:  make run  (the app)   make test  (every test)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test soak lint bench bundle clean screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/ctxlab

test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto --durations=15
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy core widgets app

soak: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto -m soak tests/soak

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
