# Two commands on a fresh machine:  make run  (the app)   make test  (every test)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test soak lint bench bundle clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/ctxlab

test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy core

soak: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m soak tests/soak

bench: $(VENV)/.installed
	$(VENV)/bin/ctxlab bench --json bench.json

bundle: $(VENV)/.installed
	bash packaging/build.sh

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
